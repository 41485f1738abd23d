"""Days past due (DPD) and delinquency buckets (逾期分档).

DPD is the number of days from the due date of the oldest instalment not fully paid to the
business date; a loan with nothing overdue has DPD 0. The morning after the due date counts:
the end of day for D closes D and counts every DPD against D + 1, the business date it moves
to (:func:`counted_on`). An instalment due on D and unpaid at the close of D is therefore 1 day
past due (bucket ``M1``) on business date D + 1, the day collectors start; one paid on D stays
at 0 (the borrower has the whole due date to pay).

Buckets are configured as ``NAME:MAX_DPD`` pairs in ascending order, the last one open-ended,
e.g. the default ``C:0,M1:30,M2:60,M3:90,M4:120,M5:150,M6:180,M7+``. The first bucket is
"current": a loan in it is performing, any other bucket is delinquent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

DEFAULT_BUCKETS = "C:0,M1:30,M2:60,M3:90,M4:120,M5:150,M6:180,M7+"


@dataclass(frozen=True)
class Bucket:
    """A DPD range, ``low`` to ``high`` inclusive (``high`` None: no upper bound)."""

    name: str
    low: int
    high: int | None

    def holds(self, dpd: int) -> bool:
        return dpd >= self.low and (self.high is None or dpd <= self.high)


@dataclass(frozen=True)
class BucketScale:
    """Contiguous buckets from DPD 0 upwards, the last one open-ended."""

    buckets: tuple[Bucket, ...]

    def __post_init__(self) -> None:
        if not self.buckets:
            raise ValueError("a bucket scale needs at least one bucket")
        names = [b.name for b in self.buckets]
        if len(set(names)) != len(names):
            raise ValueError("bucket names must be unique")
        expected_low = 0
        for bucket in self.buckets:
            if bucket.low != expected_low:
                raise ValueError(f"bucket {bucket.name} must start at DPD {expected_low}")
            if bucket.high is None:
                break
            if bucket.high < bucket.low:
                raise ValueError(f"bucket {bucket.name} ends before it starts")
            expected_low = bucket.high + 1
        if self.buckets[-1].high is not None or any(b.high is None for b in self.buckets[:-1]):
            raise ValueError("only the last bucket is open-ended, and it must be")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.buckets)

    @property
    def current(self) -> str:
        """The performing bucket (DPD 0)."""
        return self.buckets[0].name

    @property
    def delinquent(self) -> tuple[str, ...]:
        return self.names[1:]

    def bucket_for(self, dpd: int) -> str:
        if dpd < 0:
            raise ValueError("DPD is never negative")
        return next(b.name for b in self.buckets if b.holds(dpd))

    def upper_bounds(self) -> list[tuple[str, int]]:
        """``(name, max DPD)`` of every bucket but the open-ended last (for a SQL CASE)."""
        return [(b.name, b.high) for b in self.buckets if b.high is not None]


def parse_buckets(spec: str) -> BucketScale:
    """A scale from ``"C:0,M1:30,...,M7+"``: each bucket's name and its highest DPD."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if not parts:
        raise ValueError("no buckets given")
    buckets: list[Bucket] = []
    low = 0
    for i, part in enumerate(parts):
        name, sep, high_text = part.partition(":")
        name = name.strip()
        if not name:
            raise ValueError(f"bucket {i + 1} has no name")
        last = i == len(parts) - 1
        if not sep:
            if not last:
                raise ValueError(f"bucket {name} needs a highest DPD (NAME:DAYS)")
            buckets.append(Bucket(name, low, None))
            break
        try:
            high = int(high_text)
        except ValueError:
            raise ValueError(f"bucket {name}: {high_text!r} is not a number of days") from None
        buckets.append(Bucket(name, low, high))
        low = high + 1
        if last:
            raise ValueError(f"the last bucket ({name}) must be open-ended: write it without days")
    return BucketScale(tuple(buckets))


def counted_on(closed: date) -> date:
    """The business date the end of day for ``closed`` counts DPD against: the day after."""
    return closed + timedelta(days=1)


def days_past_due(oldest_unpaid_due_on: date | None, business_date: date) -> int:
    """DPD on ``business_date`` of the oldest instalment left unpaid when the day before it
    closed; 0 when nothing unpaid has fallen due."""
    if oldest_unpaid_due_on is None:
        return 0
    return max((business_date - oldest_unpaid_due_on).days, 0)
