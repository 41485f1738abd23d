"""Monitoring's event consumers: what lender systems publish, and its own events it reacts to.

Each area of the service contributes its handlers; this module only groups them by stream.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.entrypoints import adjustment_consumers, rule_consumers
from monitoring.service_layer.payments import receive_payment, reverse_payment
from monitoring.service_layer.registration import register_loan
from shared.events import CloudEvent, LoanRegistered, PaymentReceived, PaymentReversed
from shared.messaging.consumer import Handler, On, Subscription, handler_table


async def on_loan_registered(session: AsyncSession, _: CloudEvent, payload: LoanRegistered) -> None:
    """Register a loan published on ``postloan.ingest.loan.registered``."""
    await register_loan(session, payload)


async def on_payment_received(
    session: AsyncSession, _: CloudEvent, payload: PaymentReceived
) -> None:
    """Book a payment published on ``postloan.ingest.payment.received``."""
    await receive_payment(session, payload)


async def on_payment_reversed(
    session: AsyncSession, _: CloudEvent, payload: PaymentReversed
) -> None:
    """Reverse a payment as ``postloan.ingest.payment.reversed`` says."""
    await reverse_payment(
        session,
        payload.payment_id,
        reason=payload.reason,
        reversed_at=payload.reversed_at,
        loan_id=payload.loan_id,
    )


#: Handlers of events other systems publish (stream POSTLOAN_INGEST), by event type.
INGEST_HANDLERS: dict[str, Handler] = handler_table(
    On(LoanRegistered, on_loan_registered, domain="ingest"),
    On(PaymentReceived, on_payment_received, domain="ingest"),
    On(PaymentReversed, on_payment_reversed, domain="ingest"),
    *rule_consumers.INGEST,
)
#: Handlers of monitoring's own and other services' events, by event type.
INTERNAL_HANDLERS: dict[str, dict[str, Handler]] = {
    "POSTLOAN_MONITORING": handler_table(*rule_consumers.MONITORING),
    "POSTLOAN_COLLECTIONS": handler_table(
        *rule_consumers.COLLECTIONS, *adjustment_consumers.COLLECTIONS
    ),
}


def subscriptions() -> list[Subscription]:
    subs = [Subscription("monitoring-ingest", "POSTLOAN_INGEST", INGEST_HANDLERS)]
    for stream, handlers in INTERNAL_HANDLERS.items():
        if not handlers:  # a durable with no filter would take (and dead-letter) everything
            continue
        durable = f"monitoring-{stream.removeprefix('POSTLOAN_').lower()}"
        subs.append(Subscription(durable, stream, handlers))
    return subs
