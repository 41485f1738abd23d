"""What the guard allows right now, as a collector's work queue shows it."""

from __future__ import annotations

from datetime import timedelta

from shared.compliance import AttemptStatus, Channel, ContactHistory, Outcome, Rule
from shared.compliance.standing import standing

from .test_guard import CN, NEW_YORK, SHANGHAI, US, calls, local, make_request


def test_an_allowed_call_says_until_when_and_how_much_of_each_cap_is_used() -> None:
    now = local(SHANGHAI, 2026, 3, 2, 10, 0)
    history = ContactHistory(attempts=calls(now - timedelta(hours=2), 1, AttemptStatus.CONNECTED))
    found = standing(make_request(channel=Channel.AGENT_CALL), CN, history, now)

    assert found.decision.outcome is Outcome.ALLOWED
    assert found.allowed_until == local(SHANGHAI, 2026, 3, 2, 22, 0)
    connected = next(c for c in found.caps if c.limit == 3)
    assert (connected.used, connected.window) == (1, "today")
    assert found.summary.startswith("allowed until 22:00 Asia/Shanghai; ")
    assert f"{connected.name}: 1 of 3 today" in found.summary


def test_a_call_after_the_cap_says_not_now_and_from_when() -> None:
    now = local(SHANGHAI, 2026, 3, 2, 15, 0)
    history = ContactHistory(attempts=calls(now - timedelta(hours=3), 3, AttemptStatus.CONNECTED))
    found = standing(make_request(channel=Channel.AGENT_CALL), CN, history, now)

    assert found.decision.rule is Rule.DAILY_ATTEMPTS
    assert found.allowed_until is None
    assert found.summary.startswith("not now (daily_attempts: ")
    assert "allowed from 2026-03-03T08:00:00+08:00" in found.summary


def test_a_rolling_window_cap_is_counted_over_its_hours() -> None:
    now = local(NEW_YORK, 2026, 3, 9, 12, 0)
    history = ContactHistory(attempts=calls(now - timedelta(days=2), 2, AttemptStatus.UNANSWERED))
    found = standing(make_request(channel=Channel.AGENT_CALL, zone=NEW_YORK), US, history, now)

    assert found.decision.allowed
    assert found.allowed_until == local(NEW_YORK, 2026, 3, 9, 21, 0)
    assert [(c.used, c.limit, c.window) for c in found.caps if c.limit == 7] == [
        (2, 7, "in 168 hours")
    ]
