from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitoring.domain.buckets import (
    DEFAULT_BUCKETS,
    Bucket,
    BucketScale,
    counted_on,
    days_past_due,
    parse_buckets,
)

SCALE = parse_buckets(DEFAULT_BUCKETS)


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [
        (0, "C"),
        (1, "M1"),
        (30, "M1"),
        (31, "M2"),
        (60, "M2"),
        (61, "M3"),
        (90, "M3"),
        (91, "M4"),
        (120, "M4"),
        (121, "M5"),
        (150, "M5"),
        (151, "M6"),
        (180, "M6"),
        (181, "M7+"),
        (5000, "M7+"),
    ],
)
def test_the_default_scale_puts_each_dpd_in_its_bucket(dpd: int, bucket: str) -> None:
    assert SCALE.bucket_for(dpd) == bucket


def test_the_default_scale_reads_current_then_delinquent_buckets() -> None:
    assert SCALE.names == ("C", "M1", "M2", "M3", "M4", "M5", "M6", "M7+")
    assert SCALE.current == "C"
    assert SCALE.delinquent == ("M1", "M2", "M3", "M4", "M5", "M6", "M7+")
    assert SCALE.upper_bounds()[:2] == [("C", 0), ("M1", 30)]


def test_a_configured_scale_may_have_other_names_and_bounds() -> None:
    scale = parse_buckets(" C:0, EARLY:7 ,LATE ")
    assert [scale.bucket_for(d) for d in (0, 1, 7, 8)] == ["C", "EARLY", "EARLY", "LATE"]


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "C:0,M1:30",  # the last bucket must be open-ended
        "C:0,M1,M2:60,M3",  # only the last one
        "C:0,M1:abc,M2",
        "C:0,M1:30,M1",  # names unique
        "C:0,M1:0,M2",  # a bucket that ends before it starts
        ":0,M1",
    ],
)
def test_a_malformed_scale_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_buckets(spec)


def test_a_scale_with_a_gap_is_refused() -> None:
    with pytest.raises(ValueError, match="must start at DPD 1"):
        BucketScale((Bucket("C", 0, 0), Bucket("M1", 2, None)))


def test_dpd_is_never_negative() -> None:
    with pytest.raises(ValueError, match="never negative"):
        SCALE.bucket_for(-1)


def test_dpd_counts_from_the_oldest_unpaid_due_date_to_the_business_date() -> None:
    assert days_past_due(None, date(2026, 3, 1)) == 0
    assert days_past_due(date(2026, 2, 15), date(2026, 2, 15)) == 0  # due today: not late
    assert days_past_due(date(2026, 2, 15), date(2026, 2, 16)) == 1
    assert days_past_due(date(2026, 2, 15), date(2026, 3, 17)) == 30
    assert days_past_due(date(2026, 3, 15), date(2026, 2, 16)) == 0  # not due yet


def test_the_end_of_day_for_a_due_date_counts_dpd_against_the_morning_after() -> None:
    due = date(2026, 2, 28)
    assert counted_on(due) == date(2026, 3, 1)  # across a month's end
    assert days_past_due(due, counted_on(due)) == 1
    assert SCALE.bucket_for(days_past_due(due, counted_on(due))) == "M1"


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=10_000))
def test_a_later_dpd_is_never_in_an_earlier_bucket(a: int, b: int) -> None:
    low, high = sorted((a, b))
    names = SCALE.names
    assert names.index(SCALE.bucket_for(low)) <= names.index(SCALE.bucket_for(high))
