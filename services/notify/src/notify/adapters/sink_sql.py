"""SQL of the local sink."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.tables import Base, SinkRow

if TYPE_CHECKING:
    from notify.adapters.channels.base import Outgoing

SINK = Base.metadata.tables[SinkRow.__tablename__]


async def keep(session: AsyncSession, message: Outgoing, at: datetime) -> None:
    """Keep a message as received; the same message id again is not received twice.

    The local sink stands in for a provider in the embedded stack: its row need not wait for
    the WAL to reach the disk (a crash of PostgreSQL may lose the last few, never repeat
    one), which is what lets it take a thousand messages a second on a small machine."""
    await session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
    values = {
        "message_id": message.message_id,
        "channel": message.channel,
        "address": message.to,
        "subject": message.subject,
        "text": message.text,
        "received_at": at,
    }
    await session.execute(insert(SINK).values(**values).on_conflict_do_nothing())


async def received(
    session: AsyncSession, *, channel: str | None, after: int | None, limit: int
) -> list[dict[str, Any]]:
    """What the sink received, newest first (keyset on ``sink_id``)."""
    query = sa.select(SINK).order_by(SINK.c.sink_id.desc()).limit(limit)
    if channel is not None:
        query = query.where(SINK.c.channel == channel)
    if after is not None:
        query = query.where(SINK.c.sink_id < after)
    return [dict(r) for r in (await session.execute(query)).mappings()]
