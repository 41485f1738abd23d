"""Exporting the audit chain's head: an event on the bus and a line in a file kept elsewhere.

A rewrite of the whole table yields a chain that verifies on its own; it cannot also give an
exported entry the hash it had when it was exported. Each replica exports to its own folder
(or a shared one: lines are appended whole); the event's id is derived from the head, so that
replicas exporting the same head publish one event.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from gateway.adapters import audit_sql
from gateway.adapters.audit_heads import append_head, read_anchors
from gateway.domain.audit import Anchor, Head
from shared.app import Runtime, Worker
from shared.db import Database
from shared.events import AuditHeadExported, make_event
from shared.messaging.outbox import enqueue

_HEAD_EVENTS = uuid.UUID("0b6f3c55-9d1e-4a53-9a3c-2f6b0e2d8a11")


def _now() -> datetime:
    return datetime.now(UTC)


async def export_head(
    db: Database, folder: Path, *, since: Head | None, clock: Callable[[], datetime] = _now
) -> Head:
    """Export the head unless it is still ``since``; the head exported (or found) is returned."""
    at = clock()
    async with db.unit_of_work() as session:
        head = await audit_sql.read_head(session)
        if head == since or head.sequence == 0:
            return head
        payload = AuditHeadExported(sequence=head.sequence, hash=head.hash, exported_at=at)
        event_id = uuid.uuid5(_HEAD_EVENTS, f"{head.sequence}:{head.hash}")
        await enqueue(session, [make_event(payload, source="gateway", event_id=event_id)])
    await asyncio.to_thread(append_head, folder, head, at)
    return head


def exported_heads(path: Path) -> list[Anchor]:
    """The heads in an exported heads file; ``ValueError`` naming a line that is not one."""
    return read_anchors(path)


def head_exporter(folder: Path, interval_s: float) -> Worker:
    """The worker exporting the head every ``interval_s`` seconds, when it has moved."""

    async def run(rt: Runtime) -> None:
        exported: Head | None = None
        while True:
            exported = await export_head(rt.db, folder, since=exported)
            await asyncio.sleep(interval_s)

    return Worker("audit-head-export", run)
