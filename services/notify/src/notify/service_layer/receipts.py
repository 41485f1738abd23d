"""Providers' delivery receipts: authenticated by the caller (the signature), applied once.

A receipt moves a message handed to a provider on to ``delivered`` or ``failed``; a failure
for a hard bounce, an invalid address or a complaint also suppresses the address, so that no
later message goes there. The same receipt again (message and status) is a 409.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import messages_sql, receipts_sql
from notify.domain.messages import Status, may_move
from notify.service_layer.suppressions import suppress
from notify.service_layer.transitions import move
from shared.problems import Conflict, NotFound

#: Failure reasons that make an address unusable from now on.
SUPPRESSING = frozenset({"hard_bounce", "invalid_address", "complaint"})


@dataclass(frozen=True, slots=True)
class Receipt:
    message_id: uuid.UUID | None  # None: named by ``provider_message_id``
    status: str  # delivered | failed
    at: datetime
    reason: str | None
    provider_message_id: str | None = None


async def apply_receipt(
    session: AsyncSession, channel: str, receipt: Receipt, now: datetime
) -> dict[str, Any]:
    """Apply a receipt to its message; answers the message as it is then."""
    if receipt.message_id is not None:
        message = await messages_sql.message_by_id(session, receipt.message_id, lock=True)
    else:
        assert receipt.provider_message_id is not None
        message = await messages_sql.message_by_provider_id(
            session, channel, receipt.provider_message_id
        )
    if message is None or message["channel"] != channel:
        raise NotFound(f"{channel} message", str(receipt.message_id or receipt.provider_message_id))
    first = await receipts_sql.record(
        session,
        message_id=message["message_id"],
        status=receipt.status,
        reason=receipt.reason,
        at=receipt.at,
        received_at=now,
    )
    if not first:
        raise Conflict("this receipt was applied already")
    to = Status(receipt.status)
    if not may_move(Status(message["status"]), to):
        raise Conflict(f"a {message['status']} message cannot become {to}")
    if to is Status.DELIVERED:
        return await move(session, message, to, at=now, delivered_at=receipt.at)
    moved = await move(session, message, to, at=now, reason=receipt.reason or "provider_failed")
    if receipt.reason in SUPPRESSING and message["address"]:
        await suppress(
            session,
            channel=channel,
            address=message["address"],
            reason=receipt.reason,
            at=now,
            actor=f"{channel} provider",
            message_id=message["message_id"],
        )
    return moved
