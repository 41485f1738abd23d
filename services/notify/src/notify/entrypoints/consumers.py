"""Notify's event consumers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notify.service_layer.recipients import record_recipient
from shared.events import CloudEvent, LoanAccepted, Payload, spec_for
from shared.messaging.consumer import Subscription


async def on_loan_registered(session: AsyncSession, _: CloudEvent, payload: Payload) -> None:
    """Keep the contact data of the borrower of a loan that monitoring accepted."""
    assert isinstance(payload, LoanAccepted)
    await record_recipient(session, payload)


def subscriptions() -> list[Subscription]:
    registered = spec_for(LoanAccepted)
    return [
        Subscription(
            durable="notify-monitoring",
            stream=registered.stream,
            handlers={registered.type: on_loan_registered},
        )
    ]
