"""Use cases of incentives driven by monitoring's facts: on-time points from payments, and the
penalty waiver of a loan that cures quickly.

- ``payment.applied``: what the payment paid on each instalment is kept; an instalment it
  completes on or before its due date (business dates) earns the borrower points, once.
- ``payment.reversed``: what the payment paid is forgotten; an instalment that earned points
  and is no longer paid in full loses them.
- ``delinquency.changed`` back to ``C`` within the policy's days of the case opening: the
  penalty paid since the case opened is waived by an offer the system makes, approves and
  accepts (monitoring books it as a credit, like any other).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import cases_sql, offers_sql
from collections_service.domain.offers import Status, on_time, quick_cure
from collections_service.service_layer import points
from collections_service.service_layer.clock import Context
from collections_service.service_layer.offers import SYSTEM, request_booking
from shared.events import DelinquencyChanged, OfferKind, PaymentApplied, PaymentUndone

#: Derives the waiver's offer id from its case: a cure applied twice makes one offer.
_QUICK_CURE = uuid.UUID("6f1d2c3b-0a4e-4b8f-9c7d-5e6f7a8b9c0d")


async def apply_payment(session: AsyncSession, fact: PaymentApplied, ctx: Context) -> None:
    rows = [
        {"payment_id": fact.payment_id, "seq": line.seq, "loan_id": fact.loan_id,
         "booked_on": fact.booked_on, "penalty": line.penalty,
         "billed": line.principal + line.interest + line.fees}
        for line in fact.allocation
    ]  # fmt: skip
    await offers_sql.record_paid(session, rows)
    ref = await cases_sql.loan_ref(session, fact.loan_id)
    if ref is None:
        return
    done = await offers_sql.completed_on(session, fact.loan_id, [ln.seq for ln in fact.allocation])
    seqs = sorted(seq for seq, (paid_on, due_on) in done.items() if on_time(paid_on, due_on))
    await points.earn(session, ref["borrower_id"], fact.loan_id, seqs, fact.booked_on, ctx)


async def apply_undone(session: AsyncSession, fact: PaymentUndone, ctx: Context) -> None:
    seqs = [line.seq for line in fact.allocation]
    await offers_sql.forget_paid(session, fact.payment_id)
    ref = await cases_sql.loan_ref(session, fact.loan_id)
    if ref is None or not seqs:
        return
    done = await offers_sql.completed_on(session, fact.loan_id, seqs)
    earned = await offers_sql.earned_seqs(session, fact.loan_id, seqs)
    for seq in earned:
        if seq not in done or not on_time(*done[seq]):
            await points.claw_back(session, ref["borrower_id"], fact.loan_id, seq,
                                   fact.payment_id, fact.booked_on, ctx)  # fmt: skip


async def apply_cure(session: AsyncSession, fact: DelinquencyChanged, ctx: Context) -> None:
    """After the case has followed the fact: waive the penalty of a quick cure."""
    if fact.bucket != "C" or fact.bucket_before == "C":
        return
    case = await offers_sql.cured_case(session, fact.loan_id, fact.business_date)
    if case is None or not quick_cure(case["opened_on"], fact.business_date, ctx.offers):
        return
    amount = await offers_sql.penalty_paid(session, fact.loan_id, case["opened_on"])
    if amount <= Decimal("0.00"):
        return
    offer = {
        "offer_id": uuid.uuid5(_QUICK_CURE, str(case["case_id"])), "case_id": case["case_id"],
        "loan_id": fact.loan_id, "borrower_id": case["borrower_id"],
        "kind": OfferKind.PENALTY_WAIVER.value, "amount": amount, "pay_amount": None,
        "schedule": None, "points": None, "expires_on": fact.business_date,
        "status": Status.ACCEPTED.value, "created_by": SYSTEM, "approved_by": SYSTEM,
        "approval": "quick_cure", "outstanding": None, "made_on": fact.business_date,
        "accepted_on": fact.business_date, "booked_on": None, "reason": None,
        "created_at": ctx.now(),
    }  # fmt: skip
    if await offers_sql.insert_offer(session, offer):
        await request_booking(session, offer, fact.business_date, ctx)
