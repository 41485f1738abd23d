"""Which provider answers are retried, and how long between tries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notify.domain.retry import RetryPolicy, is_transient_status


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 599])
def test_time_outs_throttling_and_server_errors_are_transient(status: int) -> None:
    assert is_transient_status(status)


@pytest.mark.parametrize("status", [200, 301, 400, 401, 403, 404, 409, 422, 600])
def test_other_answers_are_not(status: int) -> None:
    assert not is_transient_status(status)


def test_the_wait_doubles_from_the_base_up_to_the_ceiling() -> None:
    policy = RetryPolicy(max_tries=8, base_s=0.5, max_s=3.0)
    # With no jitter the wait is half of each step; with the most, all of it.
    assert [policy.delay(n, 0.0) for n in range(1, 6)] == [0.25, 0.5, 1.0, 1.5, 1.5]
    assert policy.delay(3, 0.999999) == pytest.approx(2.0, abs=1e-5)


@given(tries=st.integers(1, 30), jitter=st.floats(0, 1, exclude_max=True))
def test_a_wait_is_never_longer_than_the_ceiling(tries: int, jitter: float) -> None:
    policy = RetryPolicy(max_tries=30, base_s=0.5, max_s=30.0)
    assert 0 <= policy.delay(tries, jitter) <= 30.0


def test_retry_after_is_honoured_up_to_the_ceiling() -> None:
    policy = RetryPolicy(max_tries=5, base_s=0.5, max_s=10.0)
    assert policy.delay(1, 0.0, retry_after=4.0) == 4.0
    assert policy.delay(1, 0.0, retry_after=3600.0) == 10.0
    assert policy.delay(1, 0.0, retry_after=0.0) == 0.25


@pytest.mark.parametrize(
    ("tries", "base", "ceiling"), [(0, 1.0, 2.0), (3, -1.0, 2.0), (3, 3.0, 2.0)]
)
def test_a_policy_that_could_not_work_is_refused(tries: int, base: float, ceiling: float) -> None:
    with pytest.raises(ValueError, match="retry policy"):
        RetryPolicy(max_tries=tries, base_s=base, max_s=ceiling)
