"""What the send-time checks need to know about a due message: where it goes, whether that
address is suppressed, and what notify's own records show the guard's caps."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import messages_sql, suppressions_sql
from notify.domain.addresses import PHONE_CHANNELS, normalise
from notify.domain.delivery import SendAsk
from notify.service_layer.mirrors import protections_of
from notify.service_layer.recipients import Recipient
from shared.compliance import Attempt, AttemptStatus, ContactHistory, PreferredHours
from shared.compliance import Channel as ContactChannel

#: The longest window a cap of a shipped pack counts over (us: 7 days), and a day to spare.
CAP_LOOKBACK = timedelta(days=8)


def address_of(recipient: Recipient, channel: str, kind: str) -> tuple[str | None, bool]:
    """The recipient's address on ``channel`` and whether it still works. Notify keeps the
    borrower's own channels only (other recipients' details are not known). A letter is
    addressed to the borrower by name: the print room adds the postal address."""
    if kind != "borrower":
        return None, False
    if channel in PHONE_CHANNELS:
        return recipient.phone, recipient.phone_valid
    if channel == "email":
        return recipient.email, recipient.email_valid
    if channel == "push":
        return recipient.push_token, True
    if channel == "letter":
        return recipient.name, True
    return None, False


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
    session: AsyncSession, message: Mapping[str, Any], now: datetime
) -> ContactHistory:
    """The borrower's other messages handed to providers lately, as the guard's attempts, and
    the stop requests and disputes collections announced (mirrored: ``service_layer/mirrors``).

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
    )
