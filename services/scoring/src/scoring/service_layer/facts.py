"""Recording the facts features are built from, each once whatever the redeliveries.

Every fact is dated by what monitoring says (a payment's booking date) or, when the event
carries only a wall-clock time, by the business date scoring knew when it arrived: that is the
day the fact became known, which is what point-in-time features need. The SQL is in
``scoring.adapters.facts_sql``.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters import facts_sql
from scoring.adapters.facts_sql import TERMS as TERMS  # the batch's and queries' loan table
from scoring.adapters.facts_sql import AlertFact, BureauFact, InstalmentFact
from scoring.adapters.facts_sql import LoanTerms as LoanTerms  # also the routes' view
from scoring.adapters.histories import loans_of_borrower
from shared.events import (
    AlertRaised,
    AllocationLine,
    BureauRecorded,
    LoanAccepted,
    PaymentApplied,
    PaymentReallocated,
    PaymentUndone,
)

ZERO = Decimal("0.00")


async def business_date(session: AsyncSession) -> date | None:
    """The latest business date monitoring announced, or None before the first."""
    return await facts_sql.business_date(session)


async def advance_clock(session: AsyncSession, day: date) -> date:
    """Move the clock forward to ``day`` (never back: events may arrive out of order)."""
    return await facts_sql.advance_clock(session, day)


async def record_loan(session: AsyncSession, loan: LoanAccepted) -> None:
    """The loan's terms and resolved schedule (a repeat changes nothing)."""
    terms = LoanTerms(
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
    schedule = [
        InstalmentFact(
            loan_id=loan.loan_id,
            seq=i.seq,
            due_on=i.due_on,
            principal=i.principal,
            due=i.principal + i.interest + i.fees,
        )
        for i in loan.schedule or ()
    ]
    await facts_sql.insert_terms(session, terms, schedule)


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
    await facts_sql.insert_allocation_lines(
        session,
        payment_id=payment.payment_id,
        reversal=reversal,
        loan_id=payment.loan_id,
        booked_on=payment.booked_on,
        lines=lines,
        entry=entry,
    )


async def record_bureau(session: AsyncSession, report: BureauRecorded, known_on: date) -> None:
    """The bureau report, dated by the business date it became known."""
    await facts_sql.insert_bureau(
        session,
        BureauFact(
            borrower_id=report.borrower_id,
            reported_at=report.reported_at,
            reported_on=known_on,
            score=report.score,
            inquiries_30d=report.inquiries_30d,
            open_loans=report.open_loans,
            delinquent_accounts=report.delinquent_accounts,
        ),
    )


async def record_alert(session: AsyncSession, alert: AlertRaised, known_on: date) -> None:
    """The alert, dated by the business date it became known."""
    await facts_sql.insert_alert(
        session,
        AlertFact(
            alert_id=str(alert.alert_id), loan_id=alert.loan_id, rule=alert.rule, raised_on=known_on
        ),
    )


async def close_loan(session: AsyncSession, loan_id: str, closed_on: date) -> None:
    """The loan is closed: it is rescored no more."""
    await facts_sql.close_loan(session, loan_id, closed_on)


async def loan_terms(session: AsyncSession, loan_id: str) -> LoanTerms | None:
    """The loan's terms as scoring knows them; None when unknown."""
    return await facts_sql.loan_terms(session, loan_id)


async def open_loans_of(session: AsyncSession, borrower_id: str) -> list[str]:
    """The borrower's loans that are not closed."""
    return await loans_of_borrower(session, borrower_id)


def _total(line: AllocationLine) -> Decimal:
    return line.penalty + line.fees + line.interest + line.principal
