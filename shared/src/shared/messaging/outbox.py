"""Transactional outbox: record events with the state change, publish them after commit.

:func:`enqueue` inserts into the ``outbox`` table inside the caller's transaction and raises a
``NOTIFY`` that PostgreSQL delivers only on commit. The :class:`Relay` wakes on that
notification (or every ``poll_interval`` seconds, should a notification be missed while it
was reconnecting), publishes pending rows in ``id`` order and deletes what JetStream
acknowledged. A crash between publish and delete re-publishes the same ``Nats-Msg-Id``, which
JetStream drops inside its duplicate window and the consumers' inbox drops after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import asyncpg_dsn
from shared.events import CloudEvent
from shared.messaging.bus import Bus, OutgoingMessage
from shared.messaging.schema import outbox
from shared.telemetry import current_traceparent

log = logging.getLogger(__name__)

CHANNEL = "postloan_outbox"
#: One relay at a time publishes from a database, so that order per subject holds even with
#: several replicas of a service; the others wait as hot standbys.
RELAY_LOCK_SQL = "SELECT pg_try_advisory_xact_lock(hashtext('postloan-outbox-relay'))"
FETCH_SQL = """
    SELECT id, event_id, subject, body, headers FROM outbox
    ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
"""
MAX_BACKOFF_S = 30.0


async def enqueue(session: AsyncSession, events: Iterable[CloudEvent]) -> None:
    """Record events to publish, in the caller's transaction (nothing is sent before commit)."""
    rows = []
    for event in events:
        if event.traceparent is None:
            event.traceparent = current_traceparent()
        headers = {"traceparent": event.traceparent} if event.traceparent else {}
        rows.append(
            {
                "event_id": event.id,
                "subject": event.spec.subject,
                "body": event.model_dump_json().encode(),
                "headers": headers,
            }
        )
    if rows:
        await session.execute(sa.insert(outbox), rows)
        await session.execute(sa.text(f"NOTIFY {CHANNEL}"))


class Relay:
    """Publishes the outbox of one database to JetStream until stopped."""

    def __init__(
        self, database_url: str, bus: Bus, *, batch_size: int = 500, poll_interval: float = 1.0
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._bus = bus
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._stopping = False
        self.published = 0

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        backoff = 0.5
        while not self._stopping:
            try:
                await self._run_connected()
                backoff = 0.5
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("outbox relay lost its database (%s); retrying in %.1fs", exc, backoff)
                await self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _run_connected(self) -> None:
        conn = await asyncpg.connect(self._dsn, timeout=5)
        try:
            await conn.add_listener(CHANNEL, lambda *_: self._wake.set())
            while not self._stopping:
                sent = await self.publish_pending(conn)
                if sent < self._batch_size:  # drained: wait for a NOTIFY or the poll tick
                    await self._sleep(self._poll_interval)
        finally:
            await conn.close(timeout=2)

    async def publish_pending(self, conn: asyncpg.Connection) -> int:
        """Publish one batch; return how many rows were published and removed."""
        self._wake.clear()
        async with conn.transaction():
            if not await conn.fetchval(RELAY_LOCK_SQL):
                return 0
            rows = await conn.fetch(FETCH_SQL, self._batch_size)
            if not rows:
                return 0
            acked = await self._bus.publish_batch([_message(r) for r in rows])
            # Stop at the first failure: later rows wait so that order per subject holds.
            done = [r["id"] for r, ok in zip(rows, _prefix(acked), strict=True) if ok]
            if done:
                await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", done)
        self.published += len(done)
        if len(done) < len(rows):
            raise TimeoutError(f"{len(rows) - len(done)} outbox events not acknowledged")
        return len(done)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except TimeoutError:
            pass


def _prefix(acked: list[bool]) -> list[bool]:
    """Keep the leading run of successes only."""
    out, ok = [], True
    for a in acked:
        ok = ok and a
        out.append(ok)
    return out


def _message(row: asyncpg.Record) -> OutgoingMessage:
    import json

    headers = row["headers"]
    if isinstance(headers, str):
        headers = json.loads(headers)
    return OutgoingMessage(
        subject=row["subject"], body=row["body"], msg_id=str(row["event_id"]), headers=headers
    )


async def backlog(session: AsyncSession) -> int:
    """How many events wait in the outbox (a metric and a test helper)."""
    return int((await session.execute(sa.select(sa.func.count()).select_from(outbox))).scalar_one())
