"""SQL of messages and their status history."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.tables import Base, MessageRow, MessageStatusRow

MESSAGE = Base.metadata.tables[MessageRow.__tablename__]
STATUS = Base.metadata.tables[MessageStatusRow.__tablename__]
#: The statuses whose messages count as contacts the borrower received (caps at send time).
DELIVERING = ("sending", "sent", "delivered")


async def insert_message(session: AsyncSession, values: Mapping[str, Any]) -> dict[str, Any] | None:
    """Store a new message; None when its idempotency key (or request id) is taken already."""
    statement = insert(MESSAGE).values(**values).on_conflict_do_nothing().returning(*MESSAGE.c)
    row = (await session.execute(statement)).mappings().one_or_none()
    return None if row is None else dict(row)


async def message_by_key(session: AsyncSession, key: str) -> dict[str, Any] | None:
    query = sa.select(MESSAGE).where(MESSAGE.c.idempotency_key == key)
    row = (await session.execute(query)).mappings().one_or_none()
    return None if row is None else dict(row)


async def message_by_id(
    session: AsyncSession, message_id: uuid.UUID, *, lock: bool = False
) -> dict[str, Any] | None:
    """One message; ``lock`` holds its row until the transaction ends (status changes)."""
    query = sa.select(MESSAGE).where(MESSAGE.c.message_id == message_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().one_or_none()
    return None if row is None else dict(row)


async def message_by_provider_id(
    session: AsyncSession, channel: str, provider_message_id: str
) -> dict[str, Any] | None:
    """The message the channel's provider knows as ``provider_message_id``, locked."""
    query = (
        sa.select(MESSAGE)
        .where(MESSAGE.c.channel == channel, MESSAGE.c.provider_message_id == provider_message_id)
        .order_by(MESSAGE.c.created_at)
        .limit(1)
        .with_for_update()
    )
    row = (await session.execute(query)).mappings().one_or_none()
    return None if row is None else dict(row)


async def list_messages(
    session: AsyncSession,
    *,
    filters: Mapping[str, str],
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Messages newest first (keyset on ``created_at``, ``message_id``)."""
    query = (
        sa.select(MESSAGE)
        .order_by(MESSAGE.c.created_at.desc(), MESSAGE.c.message_id.desc())
        .limit(limit)
    )
    for column, value in filters.items():
        query = query.where(MESSAGE.c[column] == value)
    if after is not None:
        at, ident = after
        key = sa.tuple_(MESSAGE.c.created_at, MESSAGE.c.message_id)
        query = query.where(key < sa.tuple_(sa.literal(at), sa.literal(ident, sa.Uuid)))
    return [dict(r) for r in (await session.execute(query)).mappings()]


async def update_message(
    session: AsyncSession, message_id: uuid.UUID, values: Mapping[str, Any]
) -> dict[str, Any]:
    statement = (
        sa.update(MESSAGE)
        .where(MESSAGE.c.message_id == message_id)
        .values(**values)
        .returning(*MESSAGE.c)
    )
    return dict((await session.execute(statement)).mappings().one())


async def insert_status(session: AsyncSession, values: Mapping[str, Any]) -> None:
    await session.execute(sa.insert(STATUS).values(**values))


async def history(session: AsyncSession, message_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every status the message has had, oldest first."""
    query = (
        sa.select(STATUS.c.status, STATUS.c.reason, STATUS.c.deferred_until, STATUS.c.at)
        .where(STATUS.c.message_id == message_id)
        .order_by(STATUS.c.id)
    )
    return [dict(r) for r in (await session.execute(query)).mappings()]


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` messages due at ``now`` (queued, deferred, or a send interrupted past
    its lease), locked for this transaction; rows another worker holds are skipped."""
    query = (
        sa.select(MESSAGE)
        .where(
            MESSAGE.c.status.in_(("queued", "deferred", "sending")),
            MESSAGE.c.due_at <= now,
        )
        .order_by(MESSAGE.c.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [dict(r) for r in (await session.execute(query)).mappings()]


async def recent_deliveries(
    session: AsyncSession, borrower_id: str, since: datetime, *, besides: uuid.UUID
) -> list[dict[str, Any]]:
    """Messages handed to a provider for the borrower since ``since`` (other than ``besides``):
    what notify's own records can tell the guard's caps."""
    query = sa.select(
        MESSAGE.c.channel,
        MESSAGE.c.loan_id,
        MESSAGE.c.recipient,
        MESSAGE.c.address,
        MESSAGE.c.status,
        sa.func.coalesce(MESSAGE.c.sent_at, MESSAGE.c.updated_at).label("at"),
    ).where(
        MESSAGE.c.borrower_id == borrower_id,
        MESSAGE.c.status.in_(DELIVERING),
        sa.func.coalesce(MESSAGE.c.sent_at, MESSAGE.c.updated_at) >= since,
        MESSAGE.c.message_id != besides,
    )
    return [dict(r) for r in (await session.execute(query)).mappings()]


async def handed_since(
    session: AsyncSession, column: str, value: str, since: datetime, limit: int
) -> list[datetime]:
    """When the latest ``limit`` messages of ``column = value`` were handed over since
    ``since`` (the rate limits' windows; indexed by ``ix_message_*_handed``)."""
    query = (
        sa.select(MESSAGE.c.handed_at)
        .where(MESSAGE.c[column] == value, MESSAGE.c.handed_at > since)
        .order_by(MESSAGE.c.handed_at.desc())
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def lock_key(session: AsyncSession, key: str) -> None:
    """Hold an advisory lock on ``key`` until the transaction ends."""
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(key))))
