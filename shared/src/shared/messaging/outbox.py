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
import json
import logging
from collections.abc import Awaitable, Iterable

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared import envelope
from shared.db import asyncpg_dsn, driver_connection
from shared.events import CloudEvent
from shared.messaging.bus import Bus, OutgoingMessage
from shared.messaging.schema import outbox
from shared.metrics import OUTBOX_PUBLISHED
from shared.telemetry import current_traceparent

log = logging.getLogger(__name__)

CHANNEL = "postloan_outbox"
#: One relay at a time publishes from a database, so that order per subject holds even with
#: several replicas of a service: the lock is held for one batch, until its deletes commit.
RELAY_LOCK_SQL = "SELECT pg_try_advisory_xact_lock(hashtext('postloan-outbox-relay'))"
FETCH_SQL = """
    SELECT id, event_id, subject, body, headers FROM outbox
    ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
"""
OUTBOX_COLUMNS = ["event_id", "subject", "body", "headers"]
#: A few events (a request's) go by one prepared INSERT; asyncpg's COPY first asks the
#: server for the table's columns, which for one or two rows costs more than the rows.
INSERT_SQL = """
    INSERT INTO outbox (event_id, subject, body, headers)
    SELECT e.event_id, e.subject, e.body, e.headers
    FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::jsonb[])
        WITH ORDINALITY AS e(event_id, subject, body, headers, n)
    ORDER BY e.n  -- ids in the order given: the relay publishes by id
"""
COPY_FROM_ROWS = 100
DELETE_SQL = "DELETE FROM outbox WHERE id = ANY($1::bigint[])"
MIN_BACKOFF_S = 0.2
#: Short, because every retry is cheap (nothing is sent while NATS is away) and a long pause
#: after an outage delays every event of the service; far inside ``DUPLICATE_WINDOW_S``.
MAX_BACKOFF_S = 5.0


class PublishFailed(Exception):
    """JetStream did not acknowledge every event of a batch; the rest stay in the outbox."""


async def enqueue(session: AsyncSession, events: Iterable[CloudEvent]) -> None:
    """Record events to publish, in the caller's transaction (nothing is sent before commit)."""
    current = current_traceparent()
    headers: dict[str | None, str] = {}  # by traceparent: most events of a call share one
    rows = []
    for event in events:
        if event.traceparent is None:
            event.traceparent = current
        trace = event.traceparent
        if trace not in headers:
            headers[trace] = envelope.headers_json(trace)
        rows.append(
            (event.id, event.spec.subject, event.model_dump_json().encode(), headers[trace])
        )
    if not rows:
        return
    conn = await driver_connection(session)
    if len(rows) < COPY_FROM_ROWS:
        await conn.execute(INSERT_SQL, *map(list, zip(*rows, strict=True)))
    else:
        await conn.copy_records_to_table("outbox", records=rows, columns=OUTBOX_COLUMNS)
    await conn.execute(f"NOTIFY {CHANNEL}")


class Relay:
    """Publishes the outbox of one database to JetStream until stopped.

    ``service`` labels the ``postloan_outbox_published_total`` counter (default: the bus's
    client name). ``published`` counts the events this relay published.
    """

    def __init__(
        self,
        database_url: str,
        bus: Bus,
        *,
        service: str | None = None,
        batch_size: int = 500,
        poll_interval: float = 1.0,
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._bus = bus
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._counter = OUTBOX_PUBLISHED.labels(service or bus.client_name)
        self._wake = asyncio.Event()  # a NOTIFY, a lost connection, or stop()
        self._stopped = asyncio.Event()
        self.published = 0

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()

    async def run(self) -> None:
        """Publish until stopped; survive NATS and database outages with a capped back-off."""
        conn: asyncpg.Connection | None = None
        failures = 0
        try:
            while not self._stopped.is_set():
                try:
                    conn = conn or await self._connect()
                    sent = await self.publish_pending(conn)
                except PublishFailed as exc:
                    if not self._bus.is_connected:  # resume the moment NATS is back
                        log.warning("outbox relay: NATS unavailable; waiting for it")
                        await _first(
                            MAX_BACKOFF_S, self._stopped.wait(), self._bus.wait_connected()
                        )
                        continue
                    failures += 1
                    await self._back_off(failures, exc)
                    continue
                except Exception as exc:  # whatever failed, the relay must not die
                    failures += 1
                    await _close(conn)
                    conn = None
                    await self._back_off(failures, exc)
                    continue
                failures = 0
                if sent < self._batch_size:  # drained: wait for a NOTIFY or the poll tick
                    await _first(self._poll_interval, self._wake.wait())
        finally:
            await _close(conn)

    async def publish_pending(self, conn: asyncpg.Connection) -> int:
        """Publish one batch; return how many rows were published and removed."""
        self._wake.clear()
        async with conn.transaction():
            if not await conn.fetchval(RELAY_LOCK_SQL):
                return 0  # another relay is publishing from this database
            rows = await conn.fetch(FETCH_SQL, self._batch_size)
            if not rows:
                return 0
            stored = await self._bus.publish_batch([_message(r) for r in rows])
            # Only the leading run is removed: later rows wait so that order per subject holds.
            if stored:
                await conn.execute(DELETE_SQL, [r["id"] for r in rows[:stored]])
        self.published += stored
        self._counter.inc(stored)
        if stored < len(rows):
            raise PublishFailed(f"{len(rows) - stored} outbox events not acknowledged")
        return stored

    async def _connect(self) -> asyncpg.Connection:
        conn: asyncpg.Connection = await asyncpg.connect(self._dsn, timeout=5)
        await conn.add_listener(CHANNEL, lambda *_: self._wake.set())
        # Wake at once when PostgreSQL goes away, rather than at the next poll tick.
        conn.add_termination_listener(lambda *_: self._wake.set())
        return conn

    async def _back_off(self, failures: int, error: Exception) -> None:
        delay = min(MIN_BACKOFF_S * 2 ** (failures - 1), MAX_BACKOFF_S)
        log.warning("outbox relay: %s; retrying in %.1fs", error, delay)
        await _first(delay, self._stopped.wait())  # a back-off ignores notifications


async def _first(timeout: float, *waits: Awaitable[object]) -> None:
    """Return when the first of ``waits`` is done, or after ``timeout`` seconds."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


async def _close(conn: asyncpg.Connection | None) -> None:
    if conn is not None:
        try:
            await conn.close(timeout=2)
        except Exception as exc:  # already broken: nothing to release
            log.debug("outbox relay: close failed: %s", exc)
            conn.terminate()


def _message(row: asyncpg.Record) -> OutgoingMessage:
    headers = row["headers"]
    if isinstance(headers, str):  # asyncpg returns jsonb as text unless a codec is set
        headers = json.loads(headers)
    return OutgoingMessage(
        subject=row["subject"], body=row["body"], msg_id=str(row["event_id"]), headers=headers
    )


async def backlog(session: AsyncSession) -> int:
    """How many events wait in the outbox (a metric and a test helper)."""
    return int((await session.execute(sa.select(sa.func.count()).select_from(outbox))).scalar_one())
