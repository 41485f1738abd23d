"""Use case: book an accepted offer off a loan, exactly once (BRIEF decision 11).

Collections publishes ``collections.offer.accepted``; this lowers what the loan's instalments
owe by the offer's amount (:mod:`monitoring.domain.adjustments` says from which parts), so its
outstanding falls by exactly that, and answers ``monitoring.adjustment.booked`` (with
``loan.updated``, and ``loan.closed`` when nothing is left to pay) or
``monitoring.adjustment.rejected``. The offer id keys the booking: a redelivered request finds
its row and changes nothing, even past the consumer's inbox.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters import adjustments_sql, business_date, instalments_sql, loans_sql
from monitoring.adapters.loans_sql import Loan
from monitoring.domain.adjustments import CREDITED, Refusal, Relief, relieve
from monitoring.domain.payoff import Due, Parts, outstanding, payoff
from monitoring.service_layer import SOURCE
from monitoring.service_layer.payments import OPEN, allocation_lines
from shared.events import (
    AdjustmentBooked,
    AdjustmentRejected,
    AllocationLine,
    LoanClosed,
    LoanStatus,
    LoanUpdated,
    OfferAccepted,
    Payload,
    make_event,
)
from shared.messaging.outbox import enqueue


async def book_offer(session: AsyncSession, offer: OfferAccepted) -> bool:
    """Book ``offer`` off its loan; False when it was booked (or refused) before."""
    loan = await loans_sql.load_loan(session, offer.loan_id)  # one booking per loan at a time
    if await adjustments_sql.find(session, offer.offer_id) is not None:
        return False
    today = await business_date.current(session)
    if loan is None or today is None:
        await _reject(session, offer, today or offer.accepted_on, "the loan is not in the ledger")
        return True
    if loan.status not in OPEN:
        await _reject(session, offer, today, f"the loan is {loan.status}")
        return True
    dues = await instalments_sql.dues(session, loan)
    # The kinds whose principal credits share this kind's bound (a credit is given once).
    kinds = tuple(k for k, part in CREDITED.items() if part is CREDITED.get(offer.kind.value))
    before = await adjustments_sql.credited_before(session, loan.loan_id, kinds)
    result = relieve(dues, offer.kind.value, offer.amount, today, credited_before=before)
    if isinstance(result, Refusal):
        await _reject(session, offer, today, result.reason)
        return True
    await _book(session, offer, loan, dues, result, today)
    return True


async def _book(
    session: AsyncSession, offer: OfferAccepted, loan: Loan, dues: list[Due], relief: Relief,
    today: date,
) -> None:  # fmt: skip
    await adjustments_sql.lower_owed(session, loan.loan_id, relief.lines)
    lines = allocation_lines(relief.lines)
    await adjustments_sql.insert(session, _row(offer, today, "booked", relief.credit, lines))
    after = [replace(d, owed=d.owed - relief.lines.get(d.seq, Parts())) for d in dues]
    settled = payoff(after, today).is_zero
    balance = outstanding(after, today, settled=settled).total
    events: list[Payload] = [
        AdjustmentBooked(
            offer_id=offer.offer_id, loan_id=loan.loan_id, kind=offer.kind, amount=offer.amount,
            booked_on=today, lines=lines, outstanding_total=balance,
        ),
        LoanUpdated(
            loan_id=loan.loan_id, status=LoanStatus.SETTLED if settled else LoanStatus(loan.status),
            dpd=loan.dpd, bucket=loan.bucket, outstanding_total=balance, business_date=today,
        ),
    ]  # fmt: skip
    if settled:  # nothing left to pay: the relief settled the loan
        await loans_sql.set_status(session, loan.loan_id, LoanStatus.SETTLED.value)
        events.append(LoanClosed(loan_id=loan.loan_id, status=LoanStatus.SETTLED, closed_on=today))
    await _announce(session, loan.loan_id, events)


async def _reject(session: AsyncSession, offer: OfferAccepted, on: date, reason: str) -> None:
    if await loans_sql.loan_exists(session, offer.loan_id):  # the row's key needs the loan
        await adjustments_sql.insert(
            session, _row(offer, on, "rejected", Decimal("0.00"), [], reason)
        )
    rejected = AdjustmentRejected(
        offer_id=offer.offer_id,
        loan_id=offer.loan_id,
        kind=offer.kind,
        amount=offer.amount,
        reason=reason,
    )
    await _announce(session, offer.loan_id, [rejected])


def _row(
    offer: OfferAccepted, on: date, status: str, credit: Decimal, lines: list[AllocationLine],
    reason: str | None = None,
) -> dict[str, object]:  # fmt: skip
    return {
        "offer_id": offer.offer_id, "loan_id": offer.loan_id, "kind": offer.kind.value,
        "amount": offer.amount, "status": status, "credit": credit, "booked_on": on,
        "lines": [line.model_dump(mode="json") for line in lines], "reason": reason,
    }  # fmt: skip


async def _announce(session: AsyncSession, loan_id: str, payloads: list[Payload]) -> None:
    await enqueue(
        session,
        [make_event(p, source=SOURCE, subject=loan_id, domain="monitoring") for p in payloads],
    )
