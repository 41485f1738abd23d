"""Scoring's event consumers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from scoring.service_layer.loans import record_loan_terms
from shared.events import CloudEvent, LoanAccepted, Payload, spec_for
from shared.messaging.consumer import Subscription


async def on_loan_registered(session: AsyncSession, _: CloudEvent, payload: Payload) -> None:
    """Record the terms of a loan that monitoring accepted."""
    assert isinstance(payload, LoanAccepted)
    await record_loan_terms(session, payload)


def subscriptions() -> list[Subscription]:
    registered = spec_for(LoanAccepted)
    return [
        Subscription(
            durable="scoring-monitoring",
            stream=registered.stream,
            handlers={registered.type: on_loan_registered},
        )
    ]
