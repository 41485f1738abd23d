"""Recording the facts features are built from, each once whatever the redeliveries.

Every fact is dated by what monitoring says (a payment's booking date) or, when the event
carries only a wall-clock time, by the business date scoring knew when it arrived: that is the
day the fact became known, which is what point-in-time features need.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters.histories import loans_of_borrower
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
from shared.events import (
    AlertRaised,
    AllocationLine,
    BureauRecorded,
    LoanAccepted,
    PaymentApplied,
    PaymentReallocated,
    PaymentUndone,
)

TERMS = Base.metadata.tables[LoanTermsRow.__tablename__]
INSTALMENT = Base.metadata.tables[InstalmentRow.__tablename__]
BUREAU = Base.metadata.tables[BureauRow.__tablename__]
ALERT = Base.metadata.tables[AlertRow.__tablename__]
CLOCK = Base.metadata.tables[ClockRow.__tablename__]
SEGMENT = Base.metadata.tables[FeatureSegmentRow.__tablename__]


async def business_date(session: AsyncSession) -> date | None:
    """The latest business date monitoring announced, or None before the first."""
    found: date | None = await session.scalar(sa.select(CLOCK.c.business_date))
    return found


ZERO = Decimal("0.00")
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


async def advance_clock(session: AsyncSession, day: date) -> date:
    """Move the clock forward to ``day`` (never back: events may arrive out of order)."""
    conn = await driver_connection(session)
    now: date = await conn.fetchval(ADVANCE_CLOCK_SQL, day)
    return now


async def record_loan(session: AsyncSession, loan: LoanAccepted) -> None:
    """The loan's terms and resolved schedule (a repeat changes nothing)."""
    await session.execute(
        insert(TERMS)
        .values(
            loan_id=loan.loan_id,
            borrower_id=loan.borrower.borrower_id,
            product=loan.product,
            principal=loan.principal,
            currency=loan.currency,
            annual_rate=loan.annual_rate,
            term_months=loan.term_months,
            repayment_method=loan.repayment_method.value,
            disbursed_on=loan.disbursed_on,
            first_due_on=loan.first_due_on,
        )
        .on_conflict_do_nothing(index_elements=["loan_id"])
    )
    if loan.schedule:
        rows = [
            {
                "loan_id": loan.loan_id,
                "seq": i.seq,
                "due_on": i.due_on,
                "principal": i.principal,
                "due": i.principal + i.interest + i.fees,
            }
            for i in loan.schedule
        ]
        await session.execute(insert(INSTALMENT).values(rows).on_conflict_do_nothing())


async def record_allocation(session: AsyncSession, payment: PaymentApplied | PaymentUndone) -> None:
    """What a payment put on each instalment, or took back when it was reversed."""
    reversal = isinstance(payment, PaymentUndone)
    sign = -1 if reversal else 1
    moved = {line.seq: (sign * line.principal, sign * _total(line)) for line in payment.allocation}
    await _record_lines(session, payment, moved, reversal=reversal, entry="")


async def record_reallocation(
    session: AsyncSession, moved: PaymentReallocated, event_id: uuid.UUID
) -> None:
    """What a reallocation moved between instalments, as of the day it was known: the new
    lines less the previous ones, so that summing a payment's rows gives what it pays now."""
    net: dict[int, tuple[Decimal, Decimal]] = {}
    for sign, lines in ((1, moved.allocation), (-1, moved.previous)):
        for line in lines:
            principal, total = net.get(line.seq, (ZERO, ZERO))
            net[line.seq] = (principal + sign * line.principal, total + sign * _total(line))
    changed = {seq: amounts for seq, amounts in net.items() if amounts != (ZERO, ZERO)}
    await _record_lines(session, moved, changed, reversal=False, entry=str(event_id))


async def _record_lines(
    session: AsyncSession,
    payment: PaymentApplied | PaymentUndone | PaymentReallocated,
    lines: dict[int, tuple[Decimal, Decimal]],
    *,
    reversal: bool,
    entry: str,
) -> None:
    """One allocation row per instalment: the principal and the total it moved."""
    if not lines:
        return
    conn = await driver_connection(session)
    await conn.execute(
        RECORD_ALLOCATION_SQL,
        payment.payment_id,
        reversal,
        payment.loan_id,
        payment.booked_on,
        list(lines),
        [principal for principal, _ in lines.values()],
        [total for _, total in lines.values()],
        entry,
    )


async def record_bureau(session: AsyncSession, report: BureauRecorded, known_on: date) -> None:
    await session.execute(
        insert(BUREAU)
        .values(
            borrower_id=report.borrower_id,
            reported_at=report.reported_at,
            reported_on=known_on,
            score=report.score,
            inquiries_30d=report.inquiries_30d,
            open_loans=report.open_loans,
            delinquent_accounts=report.delinquent_accounts,
        )
        .on_conflict_do_nothing()
    )


async def record_alert(session: AsyncSession, alert: AlertRaised, known_on: date) -> None:
    await session.execute(
        insert(ALERT)
        .values(
            alert_id=str(alert.alert_id), loan_id=alert.loan_id, rule=alert.rule, raised_on=known_on
        )
        .on_conflict_do_nothing()
    )


async def close_loan(session: AsyncSession, loan_id: str, closed_on: date) -> None:
    await session.execute(
        sa.update(TERMS)
        .where(TERMS.c.loan_id == loan_id, TERMS.c.closed_on.is_(None))
        .values(closed_on=closed_on)
    )
    # A closed loan is rescored no more: its features ahead are of no use.
    await session.execute(sa.delete(SEGMENT).where(SEGMENT.c.loan_id == loan_id))


async def loan_terms(session: AsyncSession, loan_id: str) -> dict[str, Any] | None:
    row = await session.execute(sa.select(TERMS).where(TERMS.c.loan_id == loan_id))
    found = row.mappings().one_or_none()
    return dict(found) if found else None


async def open_loans_of(session: AsyncSession, borrower_id: str) -> list[str]:
    """The borrower's loans that are not closed."""
    return await loans_of_borrower(session, borrower_id)


def _total(line: AllocationLine) -> Decimal:
    return line.penalty + line.fees + line.interest + line.principal
