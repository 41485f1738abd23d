"""The restart policy: exponential back-off, a limit per window, settings from the environment."""

import pytest

from devstack.config import ConfigError
from devstack.restarts import RestartPolicy, Restarts


def test_the_delay_doubles_up_to_the_cap_and_stops_at_the_limit() -> None:
    restarts = Restarts(RestartPolicy(first_delay_s=1, max_delay_s=4, limit=4, window_s=60))
    delays = []
    for now in (0.0, 1.0, 2.0, 3.0, 4.0):
        delays.append(restarts.delay(now))
        restarts.record(now)
    assert delays == [1, 2, 4, 4, None]


def test_restarts_older_than_the_window_no_longer_count() -> None:
    restarts = Restarts(RestartPolicy(limit=2, window_s=60))
    restarts.record(0.0)
    restarts.record(10.0)
    assert restarts.delay(30.0) is None
    assert restarts.delay(61.0) == 2  # the one at 10 s still counts
    assert restarts.delay(71.0) == 1


def test_settings_come_from_the_environment_and_a_bad_one_is_named() -> None:
    policy = RestartPolicy.from_env(
        {"POSTLOAN_RESTART_LIMIT": "3", "POSTLOAN_RESTART_WINDOW_S": "90"}
    )
    assert (policy.limit, policy.window_s) == (3, 90)
    assert RestartPolicy.from_env({}) == RestartPolicy()
    with pytest.raises(ConfigError, match="POSTLOAN_RESTART_LIMIT"):
        RestartPolicy.from_env({"POSTLOAN_RESTART_LIMIT": "many"})
