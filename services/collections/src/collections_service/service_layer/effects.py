"""Timeline lines and events a use case writes: at once, or, inside a consumer's batch, kept
and written together when the batch ends (one INSERT of lines and one of events per batch
instead of several per event), in the same transaction either way."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import cases_sql
from collections_service.adapters.cases_sql import TimelineEntry
from shared.events import CloudEvent
from shared.messaging.outbox import enqueue

_KEY = "collections.effects"


@dataclass
class _Buffer:
    lines: list[tuple[uuid.UUID, TimelineEntry]] = field(default_factory=list)
    events: list[CloudEvent] = field(default_factory=list)


def batch(session: AsyncSession) -> None:
    """Keep this transaction's writes until :func:`flush` (a consumer's ``finish`` calls it)."""
    session.info.setdefault(_KEY, _Buffer())


async def timeline(
    session: AsyncSession, case_id: uuid.UUID, lines: Sequence[TimelineEntry]
) -> None:
    buffer: _Buffer | None = session.info.get(_KEY)
    if buffer is None:
        await cases_sql.add_timeline(session, case_id, lines)
    else:
        buffer.lines.extend((case_id, line) for line in lines)


async def publish(session: AsyncSession, events: Iterable[CloudEvent]) -> None:
    buffer: _Buffer | None = session.info.get(_KEY)
    if buffer is None:
        await enqueue(session, list(events))
    else:
        buffer.events.extend(events)


async def flush(session: AsyncSession) -> None:
    buffer: _Buffer | None = session.info.pop(_KEY, None)
    if buffer is None:
        return
    if buffer.lines:
        await cases_sql.add_timelines(session, buffer.lines)
    if buffer.events:
        await enqueue(session, buffer.events)
