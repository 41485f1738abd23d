"""Persistence of bureau reports, their history, and the borrowers due for a new one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters.tables import Base, BorrowerRow, BureauReportRow
from monitoring.domain.bureau import BureauFacts, ReportOnLoans
from shared.events import BureauReported

REPORT = Base.metadata.tables[BureauReportRow.__tablename__]
BORROWER = Base.metadata.tables[BorrowerRow.__tablename__]
FACT_COLUMNS = ("score", "inquiries_30d", "open_loans", "total_debt", "delinquent_accounts")


@dataclass(frozen=True)
class StoredReport:
    """A bureau report as stored, with when monitoring received it."""

    borrower_id: str
    reported_at: datetime
    score: int
    inquiries_30d: int
    open_loans: int
    total_debt: Decimal
    delinquent_accounts: int
    received_at: datetime


async def insert_report(session: AsyncSession, report: BureauReported) -> bool:
    """Store a report; False when one with this borrower and time exists already."""
    statement = (
        insert(REPORT)
        .values(report.model_dump())
        .on_conflict_do_nothing(index_elements=["borrower_id", "reported_at"])
        .returning(REPORT.c.borrower_id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def get_report(
    session: AsyncSession, borrower_id: str, reported_at: datetime
) -> StoredReport | None:
    query = sa.select(REPORT).where(
        REPORT.c.borrower_id == borrower_id, REPORT.c.reported_at == reported_at
    )
    row = (await session.execute(query)).mappings().one_or_none()
    return None if row is None else StoredReport(**row)


async def history(
    session: AsyncSession, borrower_id: str, *, before: datetime | None, limit: int
) -> list[StoredReport]:
    """A borrower's reports, newest first (keyset on ``reported_at``)."""
    query = (
        sa.select(REPORT)
        .where(REPORT.c.borrower_id == borrower_id)
        .order_by(REPORT.c.reported_at.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(REPORT.c.reported_at < before)
    return [StoredReport(**r) for r in (await session.execute(query)).mappings()]


async def time_zone_of(session: AsyncSession, borrower_id: str) -> str | None:
    """The borrower's time zone; None for a borrower monitoring does not know."""
    query = sa.select(BORROWER.c.time_zone).where(BORROWER.c.borrower_id == borrower_id)
    return (await session.execute(query)).scalar_one_or_none()


#: Each report in scope with the borrower's report before it, its date in the borrower's time
#: zone, and the borrower's loans on the book (disbursed by then, not closed). ``{reports}``
#: picks the borrowers (alias ``q``), ``{scope}`` the reports (alias ``d``).
_REPORTS_ON_LOANS = """
WITH r AS (
    SELECT b.*, {previous}
    FROM bureau_report b
    WHERE b.borrower_id IN (SELECT q.borrower_id FROM bureau_report q WHERE {reports})
    WINDOW o AS (PARTITION BY b.borrower_id ORDER BY b.reported_at)
), d AS (
    SELECT r.*, (r.reported_at AT TIME ZONE w.time_zone)::date AS reported_on
    FROM r JOIN borrower w ON w.borrower_id = r.borrower_id
)
SELECT d.*, x.loan_ids
FROM d CROSS JOIN LATERAL (
    SELECT array_agg(l.loan_id ORDER BY l.loan_id) AS loan_ids FROM loan l
    WHERE l.borrower_id = d.borrower_id AND l.disbursed_on <= d.reported_on
      AND l.status IN ('active', 'delinquent')
) x
WHERE x.loan_ids IS NOT NULL AND {scope}
ORDER BY d.reported_on, d.reported_at, d.borrower_id
"""
_PREVIOUS = ", ".join(f"lag(b.{c}) OVER o AS previous_{c}" for c in ("reported_at", *FACT_COLUMNS))


async def report_on_loans(
    session: AsyncSession, borrower_id: str, reported_at: datetime
) -> ReportOnLoans | None:
    """One stored report with what the bureau rules look at (None: no loan on the book)."""
    where = "{a}.borrower_id = :borrower_id AND {a}.reported_at = :reported_at"
    found = await _reports_on_loans(
        session,
        reports=where.format(a="q"),
        scope=where.format(a="d"),
        params={"borrower_id": borrower_id, "reported_at": reported_at},
    )
    return found[0] if found else None


async def reports_on_loans_between(
    session: AsyncSession, *, first: date, last: date
) -> list[ReportOnLoans]:
    """Every stored report dated ``first`` .. ``last`` in its borrower's time zone."""
    # Time zones are at most 14 hours from UTC: a day either side covers every borrower.
    since = datetime.combine(first - timedelta(days=1), time(), tzinfo=UTC)
    until = datetime.combine(last + timedelta(days=2), time(), tzinfo=UTC)
    return await _reports_on_loans(
        session,
        reports="q.reported_at >= :since AND q.reported_at < :until",
        scope="d.reported_on BETWEEN :first AND :last",
        params={"since": since, "until": until, "first": first, "last": last},
    )


async def _reports_on_loans(
    session: AsyncSession, *, reports: str, scope: str, params: dict[str, object]
) -> list[ReportOnLoans]:
    sql = _REPORTS_ON_LOANS.format(previous=_PREVIOUS, reports=reports, scope=scope)
    rows = (await session.execute(sa.text(sql), params)).mappings()
    return [
        ReportOnLoans(
            borrower_id=r["borrower_id"],
            reported_on=r["reported_on"],
            current=BureauFacts(reported_at=r["reported_at"], **{c: r[c] for c in FACT_COLUMNS}),
            previous=None
            if r["previous_reported_at"] is None
            else BureauFacts(
                reported_at=r["previous_reported_at"],
                **{c: r[f"previous_{c}"] for c in FACT_COLUMNS},
            ),
            loan_ids=tuple(r["loan_ids"]),
        )
        for r in rows
    ]


_DUE = """
SELECT b.borrower_id,
       (max(r.reported_at) AT TIME ZONE b.time_zone)::date AS last_reported_on
FROM borrower b LEFT JOIN bureau_report r ON r.borrower_id = b.borrower_id
WHERE EXISTS (SELECT 1 FROM loan l WHERE l.borrower_id = b.borrower_id
              AND l.status IN ('active', 'delinquent') AND l.disbursed_on <= :today)
GROUP BY b.borrower_id, b.time_zone
HAVING max(r.reported_at) IS NULL
    OR (max(r.reported_at) AT TIME ZONE b.time_zone)::date
       <= CAST(:today AS date) - CAST(:min_age AS integer)
ORDER BY last_reported_on NULLS FIRST, b.borrower_id
LIMIT :limit
"""


async def borrowers_due(
    session: AsyncSession, *, today: date, min_age_days: int, limit: int
) -> list[tuple[str, date | None]]:
    """Borrowers with a loan on the book whose last report is at least ``min_age_days`` old
    (or who have none), oldest first, with the date of their last report."""
    params = {"today": today, "min_age": min_age_days, "limit": limit}
    rows = await session.execute(sa.text(_DUE), params)
    return [(r.borrower_id, r.last_reported_on) for r in rows]
