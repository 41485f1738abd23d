"""Consumers of the events that early warnings and bureau data react to: typed handler-table
rows, grouped by stream (``consumers`` builds the tables)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.service_layer.bureau import record_report
from monitoring.service_layer.rule_evaluation import (
    apply_contact_update,
    evaluate_payment,
    record_broken_promise,
)
from shared.events import BureauReported, CloudEvent, ContactUpdated, PaymentApplied, PromiseBroken
from shared.messaging.consumer import On


async def on_bureau_reported(session: AsyncSession, _: CloudEvent, payload: BureauReported) -> None:
    """Record a report published on ``postloan.ingest.bureau.reported``."""
    await record_report(session, payload)


async def on_contact_updated(session: AsyncSession, _: CloudEvent, payload: ContactUpdated) -> None:
    """Apply ``postloan.ingest.contact.updated``; raise contact_lost when no channel is left."""
    await apply_contact_update(session, payload)


async def on_payment_applied(session: AsyncSession, _: CloudEvent, payload: PaymentApplied) -> None:
    """Evaluate the payment rules on a payment monitoring has just applied."""
    await evaluate_payment(session, payload.payment_id)


async def on_promise_broken(session: AsyncSession, _: CloudEvent, payload: PromiseBroken) -> None:
    """Raise broken_promise when collections reports a missed promise to pay."""
    await record_broken_promise(session, payload)


#: Stream POSTLOAN_INGEST.
INGEST: tuple[On[Any], ...] = (
    On(BureauReported, on_bureau_reported, domain="ingest"),
    On(ContactUpdated, on_contact_updated, domain="ingest"),
)
#: Stream POSTLOAN_MONITORING (monitoring's own events).
MONITORING: tuple[On[Any], ...] = (On(PaymentApplied, on_payment_applied, domain="monitoring"),)
#: Stream POSTLOAN_COLLECTIONS.
COLLECTIONS: tuple[On[Any], ...] = (On(PromiseBroken, on_promise_broken, domain="collections"),)
