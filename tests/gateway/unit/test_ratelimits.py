"""The token bucket and the classes of calls: pure arithmetic, with time passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.ratelimits import (
    Bucket,
    BucketRule,
    RouteClass,
    classify,
    lease_size,
    level,
    retry_after_header,
    take,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
RULE = BucketRule(capacity=10, refill_per_s=2.0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_bucket_never_seen_is_full() -> None:
    assert level(RULE, None, T0) == 10


def test_a_burst_of_the_capacity_passes_and_the_next_call_waits_for_one_refill() -> None:
    first = take(RULE, None, T0, 10)
    after = take(RULE, first.bucket, T0, 1)

    assert first.granted == 10
    assert after.granted == 0
    assert after.retry_after_s == pytest.approx(0.5)


def test_the_bucket_refills_at_its_rate_up_to_its_capacity() -> None:
    empty = Bucket(tokens=0.0, at=T0)

    assert level(RULE, empty, at(1.5)) == pytest.approx(3.0)
    assert level(RULE, empty, at(3600)) == 10


def test_fewer_tokens_than_wanted_are_granted_as_they_are() -> None:
    taken = take(RULE, Bucket(tokens=3.7, at=T0), T0, 5)

    assert taken.granted == 3
    assert taken.bucket.tokens == pytest.approx(0.7)
    assert taken.retry_after_s == 0


def test_a_clock_behind_the_buckets_neither_refills_nor_moves_the_bucket_back() -> None:
    bucket = Bucket(tokens=1.0, at=at(10))
    taken = take(RULE, bucket, at(9), 1)

    assert taken.granted == 1
    assert taken.bucket.at == at(10)


@given(
    steps=st.lists(
        st.tuples(st.floats(min_value=0, max_value=5), st.integers(min_value=1, max_value=20)),
        max_size=60,
    ),
    capacity=st.integers(min_value=1, max_value=50),
    rate=st.floats(min_value=0.1, max_value=100),
)
def test_no_more_is_ever_granted_than_the_burst_plus_what_time_refilled(
    steps: list[tuple[float, int]], capacity: int, rate: float
) -> None:
    rule, bucket, now, granted = BucketRule(capacity, rate), None, T0, 0
    for pause, wanted in steps:
        now += timedelta(seconds=pause)
        taken = take(rule, bucket, now, wanted)
        bucket, granted = taken.bucket, granted + taken.granted
        assert 0 <= taken.granted <= wanted
        assert 0 <= bucket.tokens <= capacity
        assert (taken.granted == 0) == (taken.retry_after_s > 0)
    elapsed = (now - T0).total_seconds()
    assert granted <= capacity + elapsed * rate + 1e-6


@given(tokens=st.floats(min_value=0, max_value=0.999), rate=st.floats(min_value=0.1, max_value=50))
def test_after_the_retry_after_one_token_is_there(tokens: float, rate: float) -> None:
    rule = BucketRule(capacity=5, refill_per_s=rate)
    refused = take(rule, Bucket(tokens=tokens, at=T0), T0, 1)
    later = take(rule, refused.bucket, T0 + timedelta(seconds=refused.retry_after_s + 1e-6), 1)

    assert refused.granted == 0
    assert later.granted == 1


def test_a_lease_is_the_refill_of_its_time_within_one_and_a_tenth_of_the_burst() -> None:
    assert lease_size(BucketRule(600, 300.0), 0.1) == 30
    assert lease_size(BucketRule(100, 1000.0), 0.1) == 10
    assert lease_size(BucketRule(5, 1.0), 0.1) == 1


def test_retry_after_is_whole_seconds_and_never_zero() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.2) == "2"
    assert retry_after_header(30.0) == "30"


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/api/v1/loans/L-1", RouteClass.READS),
        ("HEAD", "/api/v1/cases", RouteClass.READS),
        ("GET", "/metrics", RouteClass.READS),
        ("POST", "/api/v1/auth/token", RouteClass.LOGIN),
        ("POST", "/api/v1/payments", RouteClass.INGEST),
        ("POST", "/api/v1/loans", RouteClass.INGEST),
        ("POST", "/api/v1/bureau-reports", RouteClass.INGEST),
        ("POST", "/api/v1/imports", RouteClass.INGEST),
        ("POST", "/api/v1/cases/C-1/outcomes", RouteClass.WRITES),
        ("POST", "/api/v1/loans/L-1/write-off", RouteClass.WRITES),
        ("PUT", "/api/v1/strategies/standard", RouteClass.WRITES),
        ("POST", "/api/v1/users", RouteClass.WRITES),
        ("POST", "/api/v1/../x", RouteClass.WRITES),
    ],
)
def test_calls_are_classed_by_method_and_route(
    method: str, path: str, expected: RouteClass
) -> None:
    assert classify(method, path) is expected


def test_a_rule_without_capacity_or_refill_is_refused() -> None:
    with pytest.raises(ValueError, match="capacity"):
        BucketRule(0, 1.0)
    with pytest.raises(ValueError, match="capacity"):
        BucketRule(1, 0.0)
