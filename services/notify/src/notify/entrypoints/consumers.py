"""Notify's event consumers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notify.service_layer import mirrors
from notify.service_layer.messages import request_contact
from notify.service_layer.recipients import apply_contact_update, record_recipient
from shared.clock import Clock
from shared.events import (
    CloudEvent,
    ContactRequested,
    ContactUpdated,
    DisputeChanged,
    DisputeOpened,
    DisputeResolved,
    LoanAccepted,
    PreferencesChanged,
    spec_for,
)
from shared.messaging.consumer import On, Subscription, handler_table


async def on_loan_registered(session: AsyncSession, _: CloudEvent, payload: LoanAccepted) -> None:
    """Keep the contact data of the borrower of a loan that monitoring accepted."""
    await record_recipient(session, payload)


async def on_contact_updated(session: AsyncSession, _: CloudEvent, payload: ContactUpdated) -> None:
    """Keep the lender's new contact data of a borrower (a push token, a new number)."""
    await apply_contact_update(session, payload)


def subscriptions(clock: Clock) -> list[Subscription]:
    async def on_contact_requested(
        session: AsyncSession, _: CloudEvent, payload: ContactRequested
    ) -> None:
        """A contact collections' guard allowed: one message per request id, ever."""
        await request_contact(session, payload, clock())

    async def on_preferences(
        session: AsyncSession, _: CloudEvent, fact: PreferencesChanged
    ) -> None:
        await mirrors.apply_preferences(session, fact)

    async def on_dispute(session: AsyncSession, _: CloudEvent, fact: DisputeChanged) -> None:
        await mirrors.apply_dispute(session, fact)

    return [
        Subscription(
            durable="notify-monitoring",
            stream=spec_for(LoanAccepted).stream,
            handlers=handler_table(On(LoanAccepted, on_loan_registered)),
        ),
        Subscription(
            durable="notify-ingest",
            stream=spec_for(ContactUpdated).stream,
            handlers=handler_table(On(ContactUpdated, on_contact_updated, domain="ingest")),
        ),
        Subscription(
            durable="notify-collections",
            stream=spec_for(ContactRequested).stream,
            handlers=handler_table(
                On(ContactRequested, on_contact_requested),
                On(PreferencesChanged, on_preferences),
                On(DisputeOpened, on_dispute),
                On(DisputeResolved, on_dispute),
            ),
        ),
    ]
