"""What the send-time checks need to know about a due message: where it goes, whether that
address is suppressed, and what notify's own records show the guard's caps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import messages_sql, suppressions_sql
from notify.domain.addresses import PHONE_CHANNELS, normalise, postal_block
from notify.domain.delivery import SendAsk
from notify.service_layer.mirrors import protections_of
from notify.service_layer.recipients import Recipient
from shared.compliance import Attempt, AttemptStatus, ContactHistory, PreferredHours
from shared.compliance import Channel as ContactChannel

#: The longest window a cap of a shipped pack counts over (us: 7 days), and a day to spare.
CAP_LOOKBACK = timedelta(days=8)


def address_of(recipient: Recipient, channel: str, kind: str) -> tuple[str | None, bool]:
    """The recipient's address on ``channel`` and whether it still works: the borrower's own,
    or the first of their stored contacts of that kind with one (BRIEF decision 5). A letter
    is addressed by name and postal address; to a borrower without a known address, by name
    (the print room adds it)."""
    if kind != "borrower":
        return _contact_address(recipient.contacts, channel, kind), True
    if channel in PHONE_CHANNELS:
        return recipient.phone, recipient.phone_valid
    if channel == "email":
        return recipient.email, recipient.email_valid
    if channel == "push":
        return recipient.push_token, True
    if channel == "letter":
        return postal_block(recipient.name, recipient.address), True
    return None, False


def _contact_address(contacts: Sequence[Mapping[str, Any]], channel: str, kind: str) -> str | None:
    """Where a message to the borrower's ``kind`` (guarantor, attorney ...) goes on
    ``channel``; None when no stored contact of that kind has an address there (push: never,
    the lender gives push tokens of the borrower only)."""
    for contact in contacts:
        if contact["recipient"] != kind:
            continue
        if channel in PHONE_CHANNELS and contact.get("phone"):
            return str(contact["phone"])
        if channel == "email" and contact.get("email"):
            return str(contact["email"])
        if channel == "letter" and contact.get("address"):
            return postal_block(str(contact["name"]), contact["address"])
    return None


async def send_ask(
    session: AsyncSession, message: Mapping[str, Any], recipient: Recipient, purpose: str
) -> SendAsk:
    channel = message["channel"]
    address, valid = address_of(recipient, channel, message["recipient"])
    normalised = None if address is None else normalise(channel, address)
    suppression = (
        None
        if normalised is None
        else await suppressions_sql.reason_for(session, channel, normalised)
    )
    return SendAsk(
        channel=channel,
        borrower_id=message["borrower_id"],
        loan_id=message["loan_id"],
        recipient=message["recipient"],
        purpose=purpose,
        time_zone=recipient.time_zone,
        address=normalised,
        address_valid=valid,
        suppression=suppression,
    )


async def own_history(
    session: AsyncSession, message: Mapping[str, Any], recipient: Recipient, now: datetime
) -> ContactHistory:
    """The borrower's other messages handed to providers lately, as the guard's attempts, and
    the stop requests and disputes collections announced (mirrored: ``service_layer/mirrors``),
    and whether an attorney is among the borrower's contacts (pack us: then only them).

    Collections' ledger stays the counter of record (BRIEF decision 2); this lets a message
    deferred into another day, or sent through the API, still meet the pack's caps as far
    as notify's own deliveries show them."""
    rows = await messages_sql.recent_deliveries(
        session, message["borrower_id"], now - CAP_LOOKBACK, besides=message["message_id"]
    )
    attempts = tuple(
        Attempt(
            at=row["at"],
            channel=ContactChannel(row["channel"]),
            loan_id=row["loan_id"] or "",
            status=AttemptStatus.PENDING if row["status"] == "sending" else AttemptStatus.DELIVERED,
            to=row["address"],
        )
        for row in rows
    )
    mirrored = await protections_of(session, message["borrower_id"])
    return ContactHistory(
        attempts=attempts,
        stopped_channels=frozenset(ContactChannel(c) for c in mirrored.stopped_channels),
        preferred_hours=PreferredHours(*mirrored.preferred) if mirrored.preferred else None,
        preferred_hours_consent=mirrored.consent,
        open_disputes=mirrored.open_disputes,
        attorney_known=any(c["recipient"] == "attorney" for c in recipient.contacts),
    )
