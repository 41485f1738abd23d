"""Login lock-out: failures counted, locks from the threshold on, doubling up to the cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.lockout import Failures, LockoutRule, after_failure, lock_duration, locked_for

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
RULE = LockoutRule(threshold=3, base_s=30.0, max_s=600.0, forget_after_s=3600.0)


def failed(times: int, *, every_s: float = 1.0) -> Failures | None:
    record = None
    for i in range(times):
        record = after_failure(RULE, record, T0 + timedelta(seconds=i * every_s))
    return record


def test_below_the_threshold_failures_are_counted_but_lock_nothing() -> None:
    record = failed(2)

    assert record is not None
    assert record.count == 2
    assert locked_for(record, T0 + timedelta(seconds=1)) == 0


def test_the_threshold_th_failure_locks_for_the_base_time() -> None:
    record = failed(3)

    assert record is not None
    assert locked_for(record, T0 + timedelta(seconds=2)) == 30
    assert locked_for(record, T0 + timedelta(seconds=32)) == 0


def test_each_further_failure_doubles_the_lock_up_to_the_cap() -> None:
    durations = [lock_duration(RULE, n) for n in range(1, 10)]

    assert durations == [0, 0, 30, 60, 120, 240, 480, 600, 600]


def test_failures_older_than_the_forget_time_no_longer_count() -> None:
    record = failed(2)
    assert record is not None
    later = after_failure(RULE, record, record.last_at + timedelta(seconds=3601))

    assert later.count == 1
    assert later.locked_until is None


def test_a_name_never_failed_is_not_locked() -> None:
    assert locked_for(None, T0) == 0


@given(counts=st.integers(min_value=1, max_value=200))
def test_locks_never_shrink_as_failures_grow_and_never_pass_the_cap(counts: int) -> None:
    durations = [lock_duration(RULE, n) for n in range(1, counts + 1)]

    assert durations == sorted(durations)
    assert all(0 <= d <= RULE.max_s for d in durations)


def test_a_rule_with_a_cap_below_its_base_is_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        LockoutRule(threshold=3, base_s=60.0, max_s=30.0, forget_after_s=10.0)
