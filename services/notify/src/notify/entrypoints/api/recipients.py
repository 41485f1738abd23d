"""Notify's read-only view of recipients."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from notify.domain.recipients import reachable_channels
from notify.service_layer import recipients
from shared.app import SessionDep
from shared.events import Channel, Contact, PostalAddress
from shared.problems import NotFound
from shared.types import ExternalId

router = APIRouter(prefix="/api/v1/notify", tags=["notify"])


class RecipientPublic(BaseModel):
    borrower_id: str
    name: str
    phone: str | None
    email: str | None
    locale: str
    time_zone: str
    channels: list[Channel]
    address: PostalAddress | None = None
    contacts: list[Contact] = []


def _public(r: recipients.Recipient) -> RecipientPublic:
    channels = reachable_channels(
        phone=r.phone, email=r.email, phone_valid=r.phone_valid, email_valid=r.email_valid
    )
    return RecipientPublic(
        borrower_id=r.borrower_id,
        name=r.name,
        phone=r.phone,
        email=r.email,
        locale=r.locale,
        time_zone=r.time_zone,
        channels=channels,
        address=PostalAddress.model_validate(r.address) if r.address else None,
        contacts=[Contact.model_validate(c) for c in r.contacts],
    )


@router.get("/loans/{loan_id}/recipient", response_model=RecipientPublic)
async def get_loan_recipient(loan_id: ExternalId, session: SessionDep) -> RecipientPublic:
    """Whom messages about a loan go to, and through which channels."""
    found = await recipients.recipient_of_loan(session, loan_id)
    if found is None:
        raise NotFound("loan", loan_id)
    return _public(found)


@router.get("/recipients/{borrower_id}", response_model=RecipientPublic)
async def get_recipient(borrower_id: ExternalId, session: SessionDep) -> RecipientPublic:
    """A borrower's contact channels, locale and time zone."""
    found = await recipients.recipient(session, borrower_id)
    if found is None:
        raise NotFound("recipient", borrower_id)
    return _public(found)
