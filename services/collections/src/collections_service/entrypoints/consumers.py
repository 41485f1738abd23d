"""Collections' event consumers: monitoring's, scoring's and notify's facts in, and the
lender's contacts (``postloan.ingest.contact.updated``).

Each handler runs in its consumer's transaction with the inbox row that makes a redelivery a
no-op; what it changes and the events it causes commit together (timeline lines and events
are written once per batch, by ``effects.flush``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.service_layer import (
    cases,
    contacts,
    effects,
    incentives,
    offers,
    quadrants,
)
from collections_service.service_layer.clock import Context
from collections_service.service_layer.loans import apply_contact_update, record_loan
from shared.events import (
    AdjustmentBooked,
    AdjustmentRejected,
    BureauRecorded,
    CloudEvent,
    ContactUpdated,
    DelinquencyChanged,
    DeliveryUpdated,
    EodCompleted,
    LoanAccepted,
    LoanClosed,
    LoanUpdated,
    PaymentApplied,
    PaymentUndone,
    ScoreUpdated,
    spec_for,
)
from shared.messaging.consumer import On, OnMany, Subscription, handler_table


def subscriptions(ctx: Context) -> list[Subscription]:
    async def on_loan_registered(session: AsyncSession, _: CloudEvent, loan: LoanAccepted) -> None:
        effects.batch(session)
        await record_loan(session, loan)

    async def on_contact_updated(
        session: AsyncSession, _: CloudEvent, update: ContactUpdated
    ) -> None:
        await apply_contact_update(session, update)

    async def on_delinquencies(
        session: AsyncSession, run: Sequence[tuple[CloudEvent, DelinquencyChanged]]
    ) -> None:
        effects.batch(session)
        await cases.apply_delinquencies(session, [fact for _, fact in run], ctx)
        for _, fact in run:  # after the run: a quick cure's case is closed by then
            await incentives.apply_cure(session, fact, ctx)

    async def on_loan_closed(session: AsyncSession, _: CloudEvent, fact: LoanClosed) -> None:
        effects.batch(session)
        await cases.apply_loan_closed(session, fact, ctx)

    async def on_loan_updated(session: AsyncSession, _: CloudEvent, fact: LoanUpdated) -> None:
        effects.batch(session)
        await cases.apply_loan_updated(session, fact)

    async def on_end_of_day(session: AsyncSession, _: CloudEvent, fact: EodCompleted) -> None:
        effects.batch(session)
        await cases.apply_end_of_day(session, fact.business_date, ctx)
        await offers.expire_due(session, fact.business_date, ctx)

    async def on_bureau(session: AsyncSession, _: CloudEvent, report: BureauRecorded) -> None:
        effects.batch(session)
        await quadrants.apply_bureau(session, report, ctx.thresholds)

    async def on_payment(session: AsyncSession, _: CloudEvent, fact: PaymentApplied) -> None:
        await cases.apply_payment(session, fact, ctx)
        await incentives.apply_payment(session, fact, ctx)

    async def on_payment_undone(session: AsyncSession, _: CloudEvent, fact: PaymentUndone) -> None:
        await incentives.apply_undone(session, fact, ctx)

    async def on_booked(session: AsyncSession, _: CloudEvent, fact: AdjustmentBooked) -> None:
        await offers.apply_booked(session, fact, ctx)

    async def on_rejected(session: AsyncSession, _: CloudEvent, fact: AdjustmentRejected) -> None:
        await offers.apply_rejected(session, fact, ctx)

    async def on_score(session: AsyncSession, _: CloudEvent, fact: ScoreUpdated) -> None:
        effects.batch(session)
        await cases.apply_score(session, fact, ctx)

    async def on_delivery(session: AsyncSession, _: CloudEvent, fact: DeliveryUpdated) -> None:
        effects.batch(session)
        await contacts.apply_delivery(session, fact, ctx.now())

    return [
        Subscription(
            durable="collections-monitoring",
            stream=spec_for(LoanAccepted).stream,
            finish=effects.flush,
            handlers=handler_table(
                On(LoanAccepted, on_loan_registered),
                OnMany(DelinquencyChanged, on_delinquencies),
                On(LoanClosed, on_loan_closed),
                On(LoanUpdated, on_loan_updated),
                On(EodCompleted, on_end_of_day),
                On(BureauRecorded, on_bureau),
                On(PaymentApplied, on_payment),
                On(PaymentUndone, on_payment_undone),
                On(AdjustmentBooked, on_booked),
                On(AdjustmentRejected, on_rejected),
            ),
        ),
        Subscription(
            durable="collections-ingest",
            stream=spec_for(ContactUpdated).stream,
            handlers=handler_table(On(ContactUpdated, on_contact_updated, domain="ingest")),
        ),
        Subscription(
            durable="collections-scoring",
            stream=spec_for(ScoreUpdated).stream,
            finish=effects.flush,
            handlers=handler_table(On(ScoreUpdated, on_score)),
        ),
        Subscription(
            durable="collections-notify",
            stream=spec_for(DeliveryUpdated).stream,
            finish=effects.flush,
            handlers=handler_table(On(DeliveryUpdated, on_delivery)),
        ),
    ]
