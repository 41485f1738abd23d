"""Decisions, deferrals, timeline lines and events a use case writes: at once, or, inside a
consumer's batch, kept and written together when the batch ends (one INSERT of each per batch
instead of several per event), in the same transaction either way."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import cases_sql, contacts_sql
from collections_service.adapters.cases_sql import TimelineEntry
from shared.envelope import source_of
from shared.events import CloudEvent, Payload, make_event
from shared.messaging.outbox import enqueue

_KEY = "collections.effects"


@dataclass
class _Buffer:
    decisions: list[dict[str, object]] = field(default_factory=list)
    deferrals: list[tuple[uuid.UUID, datetime]] = field(default_factory=list)
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


SOURCE = source_of("collections")


async def announce(session: AsyncSession, payload: Payload, *, subject: str, at: datetime) -> None:
    """Publish one of collections' events (through the outbox, in this transaction)."""
    await publish(session, [make_event(payload, source=SOURCE, subject=subject, time=at)])


async def publish(session: AsyncSession, events: Iterable[CloudEvent]) -> None:
    buffer: _Buffer | None = session.info.get(_KEY)
    if buffer is None:
        await enqueue(session, list(events))
    else:
        buffer.events.extend(events)


async def decision(session: AsyncSession, values: dict[str, object]) -> None:
    """A row of the decisions log (the contact ledger's slot is reserved at once, elsewhere:
    the next decision of the batch must count it)."""
    buffer: _Buffer | None = session.info.get(_KEY)
    if buffer is None:
        await contacts_sql.insert_decisions(session, [values])
    else:
        buffer.decisions.append(values)


async def deferral(session: AsyncSession, decision_id: uuid.UUID, due_at: datetime) -> None:
    buffer: _Buffer | None = session.info.get(_KEY)
    if buffer is None:
        await contacts_sql.defer(session, [(decision_id, due_at)])
    else:
        buffer.deferrals.append((decision_id, due_at))


async def flush(session: AsyncSession) -> None:
    buffer: _Buffer | None = session.info.pop(_KEY, None)
    if buffer is None:
        return
    if buffer.decisions:
        await contacts_sql.insert_decisions(session, buffer.decisions)
    if buffer.deferrals:  # after the decisions they point to
        await contacts_sql.defer(session, buffer.deferrals)
    if buffer.lines:
        await cases_sql.add_timelines(session, buffer.lines)
    if buffer.events:
        await enqueue(session, buffer.events)
