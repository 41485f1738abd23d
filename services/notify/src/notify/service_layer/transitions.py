"""Every change of a message's status, one way: the row, a history row and a
``notify.delivery.updated`` event in the outbox, all in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import messages_sql
from notify.domain.fallback import may_fall_back
from notify.domain.messages import Status, may_move
from notify.service_layer.fallbacks import fallback_row
from shared.envelope import source_of
from shared.events import Channel, DeliveryUpdated, make_event
from shared.messaging.outbox import enqueue

SOURCE = source_of("notify")


class IllegalMove(Exception):
    """A status change the state machine does not allow (docs/notify.md)."""


async def record_created(session: AsyncSession, message: Mapping[str, Any], at: datetime) -> None:
    """The first status of a message just stored (``queued``)."""
    await _history_and_event(session, message, at)


async def move(
    session: AsyncSession,
    message: Mapping[str, Any],
    to: Status,
    *,
    at: datetime,
    reason: str | None = None,
    deferred_until: datetime | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """Move ``message`` (its row locked by the caller) to ``to``; answers the updated row.
    A message that certainly did not get through makes its fallback, if it names one."""
    current = Status(message["status"])
    if not may_move(current, to):
        raise IllegalMove(f"message {message['message_id']}: {current} cannot become {to}")
    values = {
        "status": to.value,
        "reason": reason,
        "deferred_until": deferred_until,
        "updated_at": at,
        **changes,
    }
    moved = await messages_sql.update_message(session, message["message_id"], values)
    await _history_and_event(session, moved, at)
    if may_fall_back(to, reason):
        await _fall_back(session, moved, at)
    return moved


async def _fall_back(session: AsyncSession, message: Mapping[str, Any], at: datetime) -> None:
    row = fallback_row(message, at)
    if row is None:
        return
    stored = await messages_sql.insert_message(session, row)
    if stored is not None:  # None: made already (a late bounce after a block cannot repeat it)
        await record_created(session, stored, at)


async def _history_and_event(
    session: AsyncSession, message: Mapping[str, Any], at: datetime
) -> None:
    await messages_sql.insert_status(
        session,
        {
            "message_id": message["message_id"],
            "status": message["status"],
            "reason": message["reason"],
            "deferred_until": message["deferred_until"],
            "at": at,
        },
    )
    update = DeliveryUpdated(
        message_id=message["message_id"],
        request_id=message["request_id"],
        borrower_id=message["borrower_id"],
        channel=Channel(message["channel"]),
        status=message["status"],
        reason=message["reason"],
    )
    event = make_event(update, source=SOURCE, subject=message["borrower_id"], time=at)
    await enqueue(session, [event])
