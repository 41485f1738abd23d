"""Relays and consumers carry on when NATS is killed or PostgreSQL restarts, losing nothing.

Each test has servers of its own (``isolated_nats``, ``isolated_postgres``) which it kills
and restarts on the same port and data folder, as a supervisor would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import nats.errors
import pytest
import sqlalchemy as sa
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession

from devstack.embedded import EmbeddedNats, EmbeddedPostgres
from postloan_testing.messaging import running, stream_messages
from postloan_testing.plugin import eventually
from shared.db import Database, create_database, migrate
from shared.events import CloudEvent, ContactUpdated, Payload, make_event, spec_for
from shared.messaging import consumer as consumer_module
from shared.messaging.bus import DEAD_LETTER_STREAM, Bus
from shared.messaging.consumer import Consumer, ConsumerOptions, Subscription
from shared.messaging.outbox import Relay, backlog, enqueue

CONTACT = spec_for(ContactUpdated)
OPTIONS = ConsumerOptions(batch_size=100, max_deliveries=2, ack_wait_s=5, backoff_s=(0.05, 0.2))


async def record(session: AsyncSession, event: CloudEvent, payload: Payload) -> None:
    assert isinstance(payload, ContactUpdated)
    await session.execute(
        sa.text("INSERT INTO applied (event_id, borrower_id) VALUES (:id, :borrower)"),
        {"id": event.id, "borrower": payload.borrower_id},
    )


def contact_event(n: int) -> CloudEvent:
    payload = ContactUpdated(borrower_id=f"B-{n:04d}", updated_at=datetime.now(UTC))
    return make_event(payload, source="test", subject=payload.borrower_id)


@pytest.fixture
async def db(isolated_postgres: EmbeddedPostgres) -> AsyncIterator[Database]:
    await create_database(isolated_postgres.url, "service")
    url = isolated_postgres.url_for("service")
    await migrate(url, None)
    database = Database(url, pool_size=4)
    async with database.unit_of_work() as session:
        await session.execute(
            sa.text("CREATE TABLE applied (event_id uuid PRIMARY KEY, borrower_id text)")
        )
    yield database
    await database.dispose()


@pytest.fixture
async def bus(isolated_nats: EmbeddedNats) -> AsyncIterator[Bus]:
    bus = Bus(isolated_nats.url, client_name="test-reconnect")
    await bus.connect()
    await bus.provision()
    yield bus
    await bus.close()


@pytest.fixture
def consumer(db: Database, bus: Bus) -> Consumer:
    subscription = Subscription("test-reconnect", CONTACT.stream, {CONTACT.type: record})
    return Consumer(subscription, bus=bus, db=db, options=OPTIONS)


def kill_and_restart(server: EmbeddedNats | EmbeddedPostgres) -> None:
    server.kill()
    server.start()


async def publish(bus: Bus, event: CloudEvent) -> None:
    """Publish once JetStream answers again (it refuses for a moment after a restart)."""

    async def published() -> bool:
        try:
            await bus.js.publish(
                CONTACT.subject,
                event.model_dump_json().encode(),
                headers={"Nats-Msg-Id": str(event.id)},
                timeout=1,
            )
        except Exception:
            return False
        return True

    await eventually(published, timeout=15)


async def applied(db: Database) -> set[str]:
    async with db.unit_of_work() as session:
        return set((await session.execute(sa.text("SELECT borrower_id FROM applied"))).scalars())


async def has_applied(db: Database, *borrowers: str) -> bool:
    try:
        return set(borrowers) <= await applied(db)
    except Exception:  # the database itself may still be restarting
        return False


async def drained(db: Database) -> bool:
    try:
        async with db.unit_of_work() as session:
            return await backlog(session) == 0
    except Exception:
        return False


async def test_a_consumer_keeps_consuming_after_nats_is_killed_and_restarted(
    db: Database, bus: Bus, consumer: Consumer, isolated_nats: EmbeddedNats
) -> None:
    async with running(consumer):
        await publish(bus, contact_event(1))
        await eventually(lambda: has_applied(db, "B-0001"))

        kill_and_restart(isolated_nats)
        await publish(bus, contact_event(2))  # only after the restart: a fresh pull must see it
        await eventually(lambda: has_applied(db, "B-0002"), timeout=8)

        kill_and_restart(isolated_nats)  # and again, with the subscription made after the first one
        await publish(bus, contact_event(3))
        await eventually(lambda: has_applied(db, "B-0003"), timeout=8)
    assert await stream_messages(bus, DEAD_LETTER_STREAM) == []


async def test_a_consumer_whose_fetches_stall_resubscribes_and_carries_on(
    db: Database, bus: Bus, consumer: Consumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nats.py has been seen to stall after a restart: fetches time out while messages wait."""
    real_fetch = JetStreamContext.PullSubscription.fetch
    stalled: list[JetStreamContext.PullSubscription] = []

    async def fetch(
        sub: JetStreamContext.PullSubscription, batch: int = 1, timeout: float = 5, **kw: Any
    ) -> list[Msg]:
        if not stalled or sub is stalled[0]:  # the first subscription never sees a message
            stalled[:1] = [sub]
            await asyncio.sleep(timeout)
            raise nats.errors.TimeoutError
        return await real_fetch(sub, batch, timeout, **kw)

    monkeypatch.setattr(JetStreamContext.PullSubscription, "fetch", fetch)
    monkeypatch.setattr(consumer_module, "STALL_CHECK_S", 1.0)
    async with running(consumer):
        await publish(bus, contact_event(1))
        await eventually(lambda: has_applied(db, "B-0001"), timeout=8)
    assert stalled


async def test_a_consumer_retries_without_dead_lettering_while_postgres_is_down(
    db: Database, bus: Bus, consumer: Consumer, isolated_postgres: EmbeddedPostgres
) -> None:
    async with running(consumer):
        await publish(bus, contact_event(1))
        await eventually(lambda: has_applied(db, "B-0001"))

        isolated_postgres.stop()
        await publish(bus, contact_event(2))

        async def redelivered() -> bool:
            info = await bus.js.consumer_info(CONTACT.stream, "test-reconnect")
            return int(info.delivered.consumer_seq) > 1 + 2 * OPTIONS.max_deliveries

        await eventually(redelivered)  # far more deliveries than max_deliveries
        isolated_postgres.start()
        await eventually(lambda: has_applied(db, "B-0002"), timeout=8)
        await publish(bus, contact_event(3))
        await eventually(lambda: has_applied(db, "B-0003"))
    assert await stream_messages(bus, DEAD_LETTER_STREAM) == []


async def test_a_consumer_carries_on_after_postgres_is_killed(
    db: Database, bus: Bus, consumer: Consumer, isolated_postgres: EmbeddedPostgres
) -> None:
    async with running(consumer):
        await publish(bus, contact_event(1))
        await eventually(lambda: has_applied(db, "B-0001"))
        kill_and_restart(isolated_postgres)  # the pooled connections are now all dead
        await publish(bus, contact_event(2))
        await eventually(lambda: has_applied(db, "B-0002"), timeout=8)
    assert await stream_messages(bus, DEAD_LETTER_STREAM) == []


async def test_the_relay_loses_nothing_when_nats_is_killed_and_restarted(
    db: Database, bus: Bus, isolated_nats: EmbeddedNats
) -> None:
    relay = Relay(db.url, bus, batch_size=50, poll_interval=0.2)
    events = [contact_event(n) for n in range(300)]
    async with running(relay):
        for i in range(0, 300, 20):
            async with db.unit_of_work() as session:
                await enqueue(session, events[i : i + 20])
            if i in (100, 200):
                kill_and_restart(isolated_nats)
            await asyncio.sleep(0.01)
        await eventually(lambda: drained(db), timeout=15)

    stored = await stream_messages(bus, CONTACT.stream)
    assert [m.headers and m.headers["Nats-Msg-Id"] for m in stored] == [str(e.id) for e in events]


async def test_the_relay_carries_on_after_postgres_restarts(
    db: Database, bus: Bus, isolated_postgres: EmbeddedPostgres
) -> None:
    relay = Relay(db.url, bus, poll_interval=30.0)
    events = [contact_event(n) for n in range(2)]
    async with running(relay):
        async with db.unit_of_work() as session:
            await enqueue(session, events[:1])
        await eventually(lambda: drained(db))

        kill_and_restart(isolated_postgres)
        await eventually(lambda: drained(db))  # reachable again
        async with db.unit_of_work() as session:
            await enqueue(session, events[1:])
        await eventually(lambda: drained(db), timeout=8)  # no poll tick for 30 s: a NOTIFY

    stored = await stream_messages(bus, CONTACT.stream)
    assert [m.headers and m.headers["Nats-Msg-Id"] for m in stored] == [str(e.id) for e in events]


async def test_events_flow_exactly_once_through_nats_and_postgres_restarts_under_load(
    db: Database,
    bus: Bus,
    consumer: Consumer,
    isolated_nats: EmbeddedNats,
    isolated_postgres: EmbeddedPostgres,
) -> None:
    relay = Relay(db.url, bus, poll_interval=0.2)
    events = [contact_event(n) for n in range(1000)]
    async with running(relay, consumer):
        for i in range(0, 1000, 25):
            await _enqueue_retrying(db, events[i : i + 25])
            if i == 300:
                kill_and_restart(isolated_nats)
            if i == 600:
                kill_and_restart(isolated_postgres)
        await eventually(lambda: drained(db), timeout=30)
        await eventually(lambda: _count_applied(db, 1000), timeout=30)

    async with db.unit_of_work() as session:
        inbox = (await session.execute(sa.text("SELECT count(*) FROM inbox"))).scalar_one()
    assert inbox == 1000
    assert await stream_messages(bus, DEAD_LETTER_STREAM) == []


async def _enqueue_retrying(db: Database, events: list[CloudEvent]) -> None:
    async def enqueued() -> bool:
        try:
            async with db.unit_of_work() as session:
                await enqueue(session, events)
        except Exception:  # PostgreSQL restarting: the service would answer 503 and be retried
            return False
        return True

    await eventually(enqueued, timeout=15)


async def _count_applied(db: Database, count: int) -> bool:
    try:
        return len(await applied(db)) == count
    except Exception:
        return False
