"""SQL of the facts scoring keeps: loan terms and schedules, allocations, bureau, alerts, clock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters.tables import (
    AlertRow,
    Base,
    BureauRow,
    ClockRow,
    FeatureSegmentRow,
    InstalmentRow,
    LoanTermsRow,
)
from shared.db import driver_connection

TERMS = Base.metadata.tables[LoanTermsRow.__tablename__]
INSTALMENT = Base.metadata.tables[InstalmentRow.__tablename__]
BUREAU = Base.metadata.tables[BureauRow.__tablename__]
ALERT = Base.metadata.tables[AlertRow.__tablename__]
CLOCK = Base.metadata.tables[ClockRow.__tablename__]
SEGMENT = Base.metadata.tables[FeatureSegmentRow.__tablename__]

# Plain SQL for the two facts every payment brings (shared.db.driver_connection says why).
ADVANCE_CLOCK_SQL = """
    INSERT INTO business_clock (id, business_date) VALUES (1, $1)
    ON CONFLICT (id) DO UPDATE
        SET business_date = greatest(business_clock.business_date, excluded.business_date)
    RETURNING business_date
"""
RECORD_ALLOCATION_SQL = """
    INSERT INTO allocation (payment_id, reversal, seq, loan_id, booked_on, principal, total,
                            entry)
    SELECT $1, $2, l.seq, $3, $4, l.principal, l.total, $8
    FROM unnest($5::int[], $6::numeric[], $7::numeric[]) AS l(seq, principal, total)
    ON CONFLICT DO NOTHING
"""


async def business_date(session: AsyncSession) -> date | None:
    """The latest business date monitoring announced, or None before the first."""
    found: date | None = await session.scalar(sa.select(CLOCK.c.business_date))
    return found


async def advance_clock(session: AsyncSession, day: date) -> date:
    """Move the clock forward to ``day`` (never back); the clock's date after the move."""
    conn = await driver_connection(session)
    now: date = await conn.fetchval(ADVANCE_CLOCK_SQL, day)
    return now


@dataclass(frozen=True)
class LoanTerms:
    """The contractual terms of a loan, as monitoring announced them: model inputs."""

    loan_id: str
    borrower_id: str
    product: str
    principal: Decimal
    currency: str
    annual_rate: Decimal
    term_months: int
    repayment_method: str
    disbursed_on: date
    first_due_on: date


_TERMS_COLUMNS = tuple(f.name for f in fields(LoanTerms))


@dataclass(frozen=True)
class InstalmentFact:
    """An instalment of a loan's resolved schedule: its principal and all it asks for."""

    loan_id: str
    seq: int
    due_on: date
    principal: Decimal
    due: Decimal


@dataclass(frozen=True)
class BureauFact:
    """A bureau report, dated by the business date it became known."""

    borrower_id: str
    reported_at: datetime
    reported_on: date
    score: int
    inquiries_30d: int
    open_loans: int
    delinquent_accounts: int


@dataclass(frozen=True)
class AlertFact:
    """An early-warning alert, dated by the business date it became known."""

    alert_id: str
    loan_id: str
    rule: str
    raised_on: date


async def insert_terms(
    session: AsyncSession, terms: LoanTerms, schedule: Sequence[InstalmentFact]
) -> None:
    """The loan's terms and instalments, unless known already (a repeat changes nothing)."""
    await session.execute(
        insert(TERMS).values(asdict(terms)).on_conflict_do_nothing(index_elements=["loan_id"])
    )
    if schedule:
        rows = [asdict(r) for r in schedule]
        await session.execute(insert(INSTALMENT).values(rows).on_conflict_do_nothing())


async def insert_allocation_lines(
    session: AsyncSession,
    *,
    payment_id: str,
    reversal: bool,
    loan_id: str,
    booked_on: date,
    lines: Mapping[int, tuple[Decimal, Decimal]],
    entry: str,
) -> None:
    """One allocation row per instalment (seq → principal, total), unless recorded already."""
    conn = await driver_connection(session)
    await conn.execute(
        RECORD_ALLOCATION_SQL,
        payment_id,
        reversal,
        loan_id,
        booked_on,
        list(lines),
        [principal for principal, _ in lines.values()],
        [total for _, total in lines.values()],
        entry,
    )


async def insert_bureau(session: AsyncSession, report: BureauFact) -> None:
    """A bureau report row, unless recorded already."""
    await session.execute(insert(BUREAU).values(asdict(report)).on_conflict_do_nothing())


async def insert_alert(session: AsyncSession, alert: AlertFact) -> None:
    """An alert row, unless recorded already."""
    await session.execute(insert(ALERT).values(asdict(alert)).on_conflict_do_nothing())


async def close_loan(session: AsyncSession, loan_id: str, closed_on: date) -> None:
    """Mark the loan closed (once) and drop its feature segments."""
    await session.execute(
        sa.update(TERMS)
        .where(TERMS.c.loan_id == loan_id, TERMS.c.closed_on.is_(None))
        .values(closed_on=closed_on)
    )
    # A closed loan is rescored no more: its features ahead are of no use.
    await session.execute(sa.delete(SEGMENT).where(SEGMENT.c.loan_id == loan_id))


async def loan_terms(session: AsyncSession, loan_id: str) -> LoanTerms | None:
    """The loan's terms; None when unknown."""
    query = sa.select(*(TERMS.c[c] for c in _TERMS_COLUMNS)).where(TERMS.c.loan_id == loan_id)
    found = (await session.execute(query)).mappings().one_or_none()
    return LoanTerms(**found) if found else None


async def last_disbursement(session: AsyncSession) -> date | None:
    """The latest disbursement date of any loan: the day scoring knows of before any end of day."""
    found: date | None = await session.scalar(sa.select(sa.func.max(TERMS.c.disbursed_on)))
    return found


async def is_known(session: AsyncSession, loan_id: str) -> bool:
    found = await session.scalar(sa.select(TERMS.c.loan_id).where(TERMS.c.loan_id == loan_id))
    return found is not None
