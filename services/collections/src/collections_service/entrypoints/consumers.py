"""Collections' event consumers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.service_layer.loans import record_loan
from shared.events import CloudEvent, LoanAccepted, spec_for
from shared.messaging.consumer import On, Subscription, handler_table


async def on_loan_registered(session: AsyncSession, _: CloudEvent, payload: LoanAccepted) -> None:
    """Keep the borrower and loan reference of a loan that monitoring accepted."""
    await record_loan(session, payload)


def subscriptions() -> list[Subscription]:
    return [
        Subscription(
            durable="collections-monitoring",
            stream=spec_for(LoanAccepted).stream,
            handlers=handler_table(On(LoanAccepted, on_loan_registered)),
        )
    ]
