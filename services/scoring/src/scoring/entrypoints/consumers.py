"""Scoring's event consumers: monitoring's facts in, rescoring of the loans they touch.

Each handler records its fact (idempotently: redeliveries and repeats change nothing) and marks
the loans concerned; once the consumer's batch is handled, the marked loans are rescored
together (set-based, per business date), in the same transaction as the facts and the inbox
rows. Delinquency moves and the passing of days are
scored by the batch after each end of day (``eod.completed``), not one event at a time.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from scoring.service_layer import facts
from scoring.service_layer.batch import schedule_run
from scoring.service_layer.rescoring import rescore_in_date_order
from shared.events import (
    AlertRaised,
    BureauRecorded,
    CloudEvent,
    DelinquencyChanged,
    EodCompleted,
    LoanAccepted,
    LoanClosed,
    LoanStatus,
    LoanUpdated,
    PaymentApplied,
    PaymentReallocated,
    PaymentUndone,
    spec_for,
)
from shared.messaging.consumer import Handler, On, Subscription, handler_table

CLOSED = {LoanStatus.SETTLED, LoanStatus.WRITTEN_OFF, LoanStatus.CLOSED}


_MARKED = "scoring.rescore"


def _mark(session: AsyncSession, loan_ids: list[str], as_of: date) -> None:
    """Rescore these loans as of ``as_of`` when the batch is handled."""
    marked: dict[date, set[str]] = session.info.setdefault(_MARKED, {})
    marked.setdefault(as_of, set()).update(loan_ids)


async def rescore_marked(session: AsyncSession) -> None:
    """The batch's end: rescore the marked loans, one set per business date in date order
    (a batch spanning days stores each day's state, as events one by one would)."""
    marked: dict[date, set[str]] = session.info.pop(_MARKED, {})
    await rescore_in_date_order(session, marked)


async def _today(session: AsyncSession, fallback: date) -> date:
    """The business date scoring knows, or ``fallback`` before monitoring announced one.

    Facts stamped with a wall-clock time (alerts, bureau reports) are dated by the business
    date, not by that time: a platform replaying history runs its business dates far behind
    the wall clock."""
    return await facts.business_date(session) or fallback


async def on_loan_registered(session: AsyncSession, _: CloudEvent, payload: LoanAccepted) -> None:
    await facts.record_loan(session, payload)
    _mark(session, [payload.loan_id], await _today(session, payload.disbursed_on))


async def on_payment(
    session: AsyncSession, _: CloudEvent, payload: PaymentApplied | PaymentUndone
) -> None:
    await facts.record_allocation(session, payload)
    today = await facts.advance_clock(session, payload.booked_on)
    _mark(session, [payload.loan_id], today)


async def on_reallocation(
    session: AsyncSession, event: CloudEvent, payload: PaymentReallocated
) -> None:
    await facts.record_reallocation(session, payload, event.id)
    today = await facts.advance_clock(session, payload.booked_on)
    _mark(session, [payload.loan_id], today)


async def on_bureau(session: AsyncSession, _: CloudEvent, payload: BureauRecorded) -> None:
    today = await _today(session, payload.reported_at.date())
    await facts.record_bureau(session, payload, today)
    _mark(session, await facts.open_loans_of(session, payload.borrower_id), today)


async def on_alert(session: AsyncSession, _: CloudEvent, payload: AlertRaised) -> None:
    today = await _today(session, payload.raised_at.date())
    await facts.record_alert(session, payload, today)
    _mark(session, [payload.loan_id], today)


async def on_loan_updated(session: AsyncSession, _: CloudEvent, payload: LoanUpdated) -> None:
    await facts.advance_clock(session, payload.business_date)
    if payload.status in CLOSED:
        await facts.close_loan(session, payload.loan_id, payload.business_date)


async def on_delinquency(session: AsyncSession, _: CloudEvent, payload: DelinquencyChanged) -> None:
    await facts.advance_clock(session, payload.business_date)


async def on_loan_closed(session: AsyncSession, _: CloudEvent, payload: LoanClosed) -> None:
    await facts.close_loan(session, payload.loan_id, payload.closed_on)


async def on_eod(session: AsyncSession, _: CloudEvent, payload: EodCompleted) -> None:
    today = await facts.advance_clock(session, payload.business_date)
    await schedule_run(session, str(payload.run_id), today)


#: Monitoring's events scoring reacts to (stream POSTLOAN_MONITORING), by event type.
HANDLERS: dict[str, Handler] = handler_table(
    On(LoanAccepted, on_loan_registered, domain="monitoring"),
    On(PaymentApplied, on_payment, domain="monitoring"),
    On(PaymentUndone, on_payment, domain="monitoring"),
    On(PaymentReallocated, on_reallocation, domain="monitoring"),
    On(BureauRecorded, on_bureau, domain="monitoring"),
    On(AlertRaised, on_alert, domain="monitoring"),
    On(LoanUpdated, on_loan_updated, domain="monitoring"),
    On(DelinquencyChanged, on_delinquency, domain="monitoring"),
    On(LoanClosed, on_loan_closed, domain="monitoring"),
    On(EodCompleted, on_eod, domain="monitoring"),
)


def subscriptions() -> list[Subscription]:
    return [
        Subscription(
            durable="scoring-monitoring",
            stream=spec_for(EodCompleted, domain="monitoring").stream,
            handlers=HANDLERS,
            finish=rescore_marked,
        )
    ]
