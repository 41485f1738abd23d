"""Use cases of suppressions: addresses that no message on their channel may go to, from the
moment they are recorded (opt-outs, hard bounces, invalid addresses, complaints)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import suppressions_sql
from notify.domain.addresses import normalise
from shared.pagination import decode_time_cursor, encode_time_cursor
from shared.problems import NotFound, Problem


@dataclass(frozen=True, slots=True)
class Recorded:
    suppression: dict[str, Any]
    created: bool  # False: the address was suppressed on the channel already


@dataclass(frozen=True, slots=True)
class SuppressionPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


async def suppress(
    session: AsyncSession,
    *,
    channel: str,
    address: str,
    reason: str,
    at: datetime,
    actor: str | None = None,
    message_id: uuid.UUID | None = None,
) -> Recorded:
    """Suppress the address on the channel; one already suppressed keeps its first record."""
    spelled = normalise(channel, address)
    values = {
        "suppression_id": uuid.uuid4(),
        "channel": channel,
        "address": spelled,
        "reason": reason,
        "message_id": message_id,
        "created_by": actor,
        "created_at": at,
    }
    stored = await suppressions_sql.add(session, values)
    if stored is not None:
        return Recorded(stored, created=True)
    existing = await suppressions_sql.by_address(session, channel, spelled)
    assert existing is not None  # the conflict was on this very (channel, address)
    return Recorded(existing, created=False)


async def list_suppressions(
    session: AsyncSession,
    *,
    channel: str | None,
    address: str | None,
    cursor: str | None,
    limit: int,
) -> SuppressionPage:
    """Newest first; ``address`` is matched as notify compares addresses."""
    filters = {} if channel is None else {"channel": channel}
    if address is not None:
        spelled_as = channel or ("email" if "@" in address else "sms")
        filters["address"] = normalise(spelled_as, address)
    after = decode_time_cursor(cursor)
    key = None if after is None else (after[0], _uuid(after[1]))
    rows = await suppressions_sql.listing(session, filters=filters, after=key, limit=limit + 1)
    items = rows[:limit]
    last = items[-1] if len(rows) > limit else None
    next_cursor = (
        None
        if last is None
        else encode_time_cursor(last["created_at"], str(last["suppression_id"]))
    )
    return SuppressionPage(items, next_cursor)


async def lift(session: AsyncSession, suppression_id: uuid.UUID) -> None:
    """Remove a suppression: messages to the address may go again (those blocked stay so)."""
    if not await suppressions_sql.remove(session, suppression_id):
        raise NotFound("suppression", str(suppression_id))


def _uuid(ident: str) -> uuid.UUID:
    try:
        return uuid.UUID(ident)
    except ValueError:
        raise Problem(
            400, "Invalid cursor", "pass back the next_cursor of a previous page"
        ) from None
