"""Monitoring's event consumers: what lender systems publish, and its own events it reacts to.

Each area of the service contributes its handlers; this module only groups them by stream.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.service_layer.registration import register_loan
from shared.events import CloudEvent, LoanRegistered, Payload, spec_for
from shared.messaging.consumer import Handler, Subscription


async def on_loan_registered(session: AsyncSession, _: CloudEvent, payload: Payload) -> None:
    """Register a loan published on ``postloan.ingest.loan.registered``."""
    assert isinstance(payload, LoanRegistered)
    await register_loan(session, payload)


#: Handlers of events other systems publish (stream POSTLOAN_INGEST), by event type.
INGEST_HANDLERS: dict[str, Handler] = {
    spec_for(LoanRegistered, domain="ingest").type: on_loan_registered,
}
#: Handlers of monitoring's own and other services' events, by event type.
INTERNAL_HANDLERS: dict[str, dict[str, Handler]] = {}


def subscriptions() -> list[Subscription]:
    subs = [Subscription("monitoring-ingest", "POSTLOAN_INGEST", INGEST_HANDLERS)]
    for stream, handlers in INTERNAL_HANDLERS.items():
        durable = f"monitoring-{stream.removeprefix('POSTLOAN_').lower()}"
        subs.append(Subscription(durable, stream, handlers))
    return subs
