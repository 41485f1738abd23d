"""Use cases of portfolio analytics: distribution, roll rates, cure rates, vintage curves."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters import analytics_sql
from monitoring.domain.analytics import (
    EMPTY,
    Cure,
    RollRow,
    Tally,
    Vintage,
    cures,
    month_ends,
    months_between,
    ordered,
    roll_matrix,
    total_cure,
    vintage_curve,
)
from monitoring.domain.buckets import BucketScale
from shared.problems import Problem


class NoSnapshot(Problem):
    def __init__(self, detail: str) -> None:
        super().__init__(404, "No snapshot", detail)


# --- distribution --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductTally:
    product: str
    tally: Tally
    buckets: list[tuple[str, Tally]]


@dataclass(frozen=True)
class Distribution:
    as_of: date
    buckets: list[tuple[str, Tally]]
    products: list[ProductTally]
    total: Tally


async def distribution(
    session: AsyncSession, as_of: date | None, scale: BucketScale
) -> Distribution:
    """Loans and balances per bucket and per product in a day's snapshot (default: latest)."""
    day = as_of or await analytics_sql.latest_snapshot_date(session)
    if day is None:
        raise NoSnapshot("no end of day has run yet")
    if as_of is not None and not await analytics_sql.has_snapshot(session, day):
        raise NoSnapshot(f"no snapshot for {day}: end of day has not closed that date")
    rows = await analytics_sql.distribution(session, day)
    by_bucket: dict[str, Tally] = {}
    by_product: dict[str, Tally] = {}
    cells: dict[str, dict[str, Tally]] = defaultdict(dict)
    total = EMPTY
    for r in rows:
        tally = Tally(r.count, r.outstanding, r.outstanding_total)
        if r.bucket is not None and r.product is not None:
            cells[r.product][r.bucket] = tally
        elif r.bucket is not None:
            by_bucket[r.bucket] = tally
        elif r.product is not None:
            by_product[r.product] = tally
        else:
            total = tally
    names = ordered(by_bucket, scale.names)
    products = [
        ProductTally(p, by_product[p], [(b, cells[p].get(b, EMPTY)) for b in names])
        for p in sorted(by_product)
    ]
    return Distribution(day, [(b, by_bucket.get(b, EMPTY)) for b in names], products, total)


# --- roll and cure rates -------------------------------------------------------------------


@dataclass(frozen=True)
class RollRates:
    from_on: date
    to_on: date
    rows: list[RollRow]


async def roll_rates(
    session: AsyncSession, first: date, second: date | None, scale: BucketScale
) -> RollRates:
    """The bucket-to-bucket matrix from the month-end of ``first`` to that of ``second``."""
    second = second or _next_month(first)
    if second <= first:
        raise Problem(422, "Invalid months", "to must be a later month than from")
    ends = month_ends(await analytics_sql.snapshot_dates(session))
    start, end = _month_end(ends, first), _month_end(ends, second)
    moves = await analytics_sql.transitions(session, start, end)
    return RollRates(start, end, roll_matrix(moves, scale.names))


@dataclass(frozen=True)
class CurePeriod:
    from_on: date
    to_on: date
    buckets: list[Cure]
    total: Cure


async def cure_rates(
    session: AsyncSession, first: date | None, last: date | None, scale: BucketScale
) -> list[CurePeriod]:
    """For each pair of consecutive month-ends between ``first`` and ``last``, the cures."""
    ends = month_ends(await analytics_sql.snapshot_dates(session))
    months = [
        m
        for m in sorted(ends)
        if (first is None or m >= first)
        and (last is None or m <= last)
        and _next_month(m) in ends
        and (last is None or _next_month(m) <= last)
    ]
    periods = []
    for month in months:
        start, end = ends[month], ends[_next_month(month)]
        items = cures(await analytics_sql.transitions(session, start, end), scale.names)
        periods.append(CurePeriod(start, end, items, total_cure(items)))
    return periods


# --- vintages ------------------------------------------------------------------------------


async def vintages(session: AsyncSession, min_dpd: int) -> list[Vintage]:
    """Cumulative share of each disbursement month's loans seen at ``min_dpd``+ by month-end."""
    ends = month_ends(await analytics_sql.snapshot_dates(session))
    if not ends:
        return []
    bad = await analytics_sql.first_bad(session, month_ends=list(ends.values()), min_dpd=min_dpd)
    by_vintage: dict[date, dict[date, tuple[int, Decimal]]] = defaultdict(dict)
    for b in bad:
        by_vintage[b.vintage][b.month] = (b.loans, b.principal)
    last_month = max(ends)
    return [
        vintage_curve(
            vintage=c.vintage,
            loans=c.loans,
            principal=c.principal,
            ends=ends,
            first_bad=by_vintage[c.vintage],
        )
        for c in await analytics_sql.cohorts(session)
        if months_between(c.vintage, last_month) >= 0
    ]


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _month_end(ends: dict[date, date], month: date) -> date:
    if month not in ends:
        raise NoSnapshot(f"no snapshot in {month:%Y-%m}: end of day has not closed a date in it")
    return ends[month]
