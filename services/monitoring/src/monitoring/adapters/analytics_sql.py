"""Portfolio analytics queries over the daily delinquency snapshots (all aggregation in SQL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.domain.analytics import EXIT, Transition


async def latest_snapshot_date(session: AsyncSession) -> date | None:
    result = await session.execute(sa.text("SELECT max(as_of) FROM delinquency_snapshot"))
    return result.scalar_one_or_none()


async def has_snapshot(session: AsyncSession, as_of: date) -> bool:
    query = sa.text("SELECT EXISTS (SELECT 1 FROM delinquency_snapshot WHERE as_of = :as_of)")
    return bool((await session.execute(query, {"as_of": as_of})).scalar_one())


# One index probe per distinct date (a "loose index scan"), not a scan of every snapshot row.
SNAPSHOT_DATES_SQL = sa.text(
    """
    WITH RECURSIVE d(as_of) AS (
        SELECT min(as_of) FROM delinquency_snapshot
        UNION ALL
        SELECT (SELECT min(s.as_of) FROM delinquency_snapshot s WHERE s.as_of > d.as_of)
        FROM d WHERE d.as_of IS NOT NULL
    )
    SELECT as_of FROM d WHERE as_of IS NOT NULL
    """
)


async def snapshot_dates(session: AsyncSession) -> list[date]:
    return list((await session.execute(SNAPSHOT_DATES_SQL)).scalars())


@dataclass(frozen=True)
class DistributionRow:
    """One group of the bucket distribution: ``None`` where the group spans every value."""

    bucket: str | None
    product: str | None
    count: int
    outstanding: Decimal
    outstanding_total: Decimal


async def distribution(session: AsyncSession, as_of: date) -> list[DistributionRow]:
    """Counts and balances per bucket, per product, per product and bucket, and in total."""
    result = await session.execute(
        sa.text(
            """SELECT bucket, product, count(*) AS n,
                      COALESCE(sum(outstanding_principal), 0.00) AS principal,
                      COALESCE(sum(outstanding_total), 0.00) AS total
               FROM delinquency_snapshot WHERE as_of = :as_of
               GROUP BY GROUPING SETS ((bucket), (product), (product, bucket), ())"""
        ),
        {"as_of": as_of},
    )
    return [
        DistributionRow(r.bucket, r.product, int(r.n), Decimal(r.principal), Decimal(r.total))
        for r in result
    ]


async def transitions(session: AsyncSession, first: date, second: date) -> list[Transition]:
    """Loans by bucket at ``first`` and at ``second`` (``exit`` when gone), balance at first."""
    result = await session.execute(
        sa.text(
            """SELECT f.bucket AS from_bucket, COALESCE(t.bucket, :exit) AS to_bucket,
                      count(*) AS n, COALESCE(sum(f.outstanding_principal), 0.00) AS balance
               FROM delinquency_snapshot f
               LEFT JOIN delinquency_snapshot t ON t.as_of = :second AND t.loan_id = f.loan_id
               WHERE f.as_of = :first
               GROUP BY 1, 2"""
        ),
        {"first": first, "second": second, "exit": EXIT},
    )
    return [Transition(r.from_bucket, r.to_bucket, int(r.n), Decimal(r.balance)) for r in result]


@dataclass(frozen=True)
class Cohort:
    vintage: date
    loans: int
    principal: Decimal


async def cohorts(session: AsyncSession) -> list[Cohort]:
    """Loans and disbursed principal per disbursement month (every loan ever registered)."""
    result = await session.execute(
        sa.text(
            """SELECT CAST(date_trunc('month', disbursed_on) AS date) AS vintage,
                      count(*) AS n, sum(principal) AS principal
               FROM loan GROUP BY 1 ORDER BY 1"""
        )
    )
    return [Cohort(r.vintage, int(r.n), Decimal(r.principal)) for r in result]


@dataclass(frozen=True)
class FirstBad:
    vintage: date
    month: date  # the month whose month-end first saw the loans at the threshold
    loans: int
    principal: Decimal


async def first_bad(
    session: AsyncSession, *, month_ends: Sequence[date], min_dpd: int
) -> list[FirstBad]:
    """Loans first seen at ``min_dpd``+ at a month-end, by vintage and month of that month-end."""
    result = await session.execute(
        sa.text(
            """SELECT CAST(date_trunc('month', b.disbursed_on) AS date) AS vintage,
                      CAST(date_trunc('month', b.first_bad) AS date) AS month,
                      count(*) AS n, COALESCE(sum(l.principal), 0.00) AS principal
               FROM (SELECT s.loan_id, min(s.disbursed_on) AS disbursed_on,
                            min(s.as_of) AS first_bad
                     FROM delinquency_snapshot s
                     WHERE s.as_of = ANY(CAST(:ends AS date[])) AND s.dpd >= :min_dpd
                     GROUP BY s.loan_id) b
               JOIN loan l ON l.loan_id = b.loan_id
               GROUP BY 1, 2"""
        ),
        {"ends": list(month_ends), "min_dpd": min_dpd},
    )
    return [FirstBad(r.vintage, r.month, int(r.n), Decimal(r.principal)) for r in result]
