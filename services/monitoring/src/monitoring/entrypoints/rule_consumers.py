"""Consumers of the events that early warnings and bureau data react to, grouped by stream."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.service_layer.alerts import (
    apply_contact_update,
    evaluate_payment,
    record_broken_promise,
)
from monitoring.service_layer.bureau import record_report
from shared.events import (
    BureauReported,
    CloudEvent,
    ContactUpdated,
    Payload,
    PaymentApplied,
    PromiseBroken,
    spec_for,
)
from shared.messaging.consumer import Handler


async def on_bureau_reported(session: AsyncSession, _: CloudEvent, payload: Payload) -> None:
    """Record a report published on ``postloan.ingest.bureau.reported``."""
    assert isinstance(payload, BureauReported)
    await record_report(session, payload)


async def on_contact_updated(session: AsyncSession, _: CloudEvent, payload: Payload) -> None:
    """Apply ``postloan.ingest.contact.updated``; raise contact_lost when no channel is left."""
    assert isinstance(payload, ContactUpdated)
    await apply_contact_update(session, payload)


async def on_payment_applied(session: AsyncSession, _: CloudEvent, payload: Payload) -> None:
    """Evaluate the payment rules on a payment monitoring has just applied."""
    assert isinstance(payload, PaymentApplied)
    await evaluate_payment(session, payload.payment_id)


async def on_promise_broken(session: AsyncSession, _: CloudEvent, payload: Payload) -> None:
    """Raise broken_promise when collections reports a missed promise to pay."""
    assert isinstance(payload, PromiseBroken)
    await record_broken_promise(session, payload)


#: Stream POSTLOAN_INGEST.
INGEST: dict[str, Handler] = {
    spec_for(BureauReported, domain="ingest").type: on_bureau_reported,
    spec_for(ContactUpdated, domain="ingest").type: on_contact_updated,
}
#: Stream POSTLOAN_MONITORING (monitoring's own events).
MONITORING: dict[str, Handler] = {
    spec_for(PaymentApplied, domain="monitoring").type: on_payment_applied,
}
#: Stream POSTLOAN_COLLECTIONS.
COLLECTIONS: dict[str, Handler] = {
    spec_for(PromiseBroken, domain="collections").type: on_promise_broken,
}
