"""Rate limits as sliding windows: a message over the limit waits until the window has room."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notify.domain.rate_limits import RateLimit, next_slot, parse_rate

NOW = datetime(2026, 2, 16, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("3/1h", RateLimit(3, timedelta(hours=1))),
        ("50/s", RateLimit(50, timedelta(seconds=1))),
        (" 100 / 10m ", RateLimit(100, timedelta(minutes=10))),
        ("5/1d", RateLimit(5, timedelta(days=1))),
    ],
)
def test_rates_are_read_as_a_count_per_period(text: str, limit: RateLimit) -> None:
    assert parse_rate(text) == limit


@pytest.mark.parametrize("text", ["3", "3/1w", "0/1h", "3/0s", "-1/1h", "three/1h", ""])
def test_other_spellings_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"rate|at least"):
        parse_rate(text)


def test_below_the_limit_a_hand_over_goes_now() -> None:
    limit = RateLimit(3, timedelta(hours=1))
    handed = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=10)]

    assert next_slot(limit, handed, NOW) is None


def test_at_the_limit_it_waits_until_the_oldest_of_the_window_leaves_it() -> None:
    limit = RateLimit(2, timedelta(hours=1))
    handed = [NOW - timedelta(minutes=10), NOW - timedelta(minutes=50), NOW - timedelta(hours=2)]

    assert next_slot(limit, handed, NOW) == NOW + timedelta(minutes=10)


def test_hand_overs_older_than_the_window_do_not_count() -> None:
    limit = RateLimit(1, timedelta(seconds=1))

    assert next_slot(limit, [NOW - timedelta(seconds=1)], NOW) is None
    assert next_slot(limit, [NOW], NOW) == NOW + timedelta(seconds=1)
