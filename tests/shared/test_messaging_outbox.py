"""The transactional outbox and its relay, against real PostgreSQL and NATS JetStream."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from opentelemetry.sdk.trace import TracerProvider

from postloan_testing.messaging import running, stream_messages
from postloan_testing.plugin import NatsUnderTest, eventually
from shared.db import Database, migrate
from shared.events import CloudEvent, ContactUpdated, PaymentReversed, make_event
from shared.messaging.bus import Bus
from shared.messaging.outbox import RELAY_LOCK_SQL, Relay, backlog, enqueue
from shared.messaging.schema import outbox
from shared.metrics import OUTBOX_PUBLISHED
from shared.telemetry import current_traceparent

STREAM = "POSTLOAN_INGEST"


def contact_event(n: int) -> CloudEvent:
    payload = ContactUpdated(borrower_id=f"B-{n:04d}", updated_at=datetime.now(UTC))
    return make_event(payload, source="test", subject=payload.borrower_id)


def reversal_event(n: int) -> CloudEvent:
    payload = PaymentReversed(
        payment_id=f"P-{n:04d}", loan_id="L-1", reversed_at=datetime.now(UTC), reason="test"
    )
    return make_event(payload, source="test", subject="L-1")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    await migrate(database_url, None)
    database = Database(database_url, pool_size=4)
    yield database
    await database.dispose()


@pytest.fixture
async def bus(nats_server: NatsUnderTest) -> AsyncIterator[Bus]:
    bus = Bus(nats_server.url, client_name="test-outbox")
    await bus.connect()
    await bus.provision()
    yield bus
    await bus.close()


async def commit(db: Database, events: list[CloudEvent]) -> None:
    async with db.unit_of_work() as session:
        await enqueue(session, events)


async def pending(db: Database) -> int:
    async with db.unit_of_work() as session:
        return await backlog(session)


async def drained(db: Database) -> bool:
    return await pending(db) == 0


async def published_ids(bus: Bus) -> list[str]:
    return [json.loads(m.data or b"")["id"] for m in await stream_messages(bus, STREAM)]


async def test_events_of_a_rolled_back_transaction_are_never_published(
    db: Database, bus: Bus
) -> None:
    relay = Relay(db.url, bus, poll_interval=0.05)
    async with running(relay):

        async def failing_use_case() -> None:
            async with db.unit_of_work() as session:
                await enqueue(session, [contact_event(1)])
                raise RuntimeError("the use case failed after recording its event")

        with pytest.raises(RuntimeError):
            await failing_use_case()
        kept = contact_event(2)
        await commit(db, [kept])
        await eventually(lambda: drained(db))
        await asyncio.sleep(0.2)
    assert await published_ids(bus) == [str(kept.id)]
    assert await pending(db) == 0


async def test_committed_events_are_published_in_order_with_their_id_and_then_removed(
    db: Database, bus: Bus
) -> None:
    events = [contact_event(n) if n % 3 else reversal_event(n) for n in range(1200)]
    relay = Relay(db.url, bus, service="outbox-test", batch_size=100, poll_interval=0.05)
    before = OUTBOX_PUBLISHED.labels("outbox-test")._value.get()
    sizes = [1, 2, 97, 300, 800]  # a request's few events by INSERT, batches by COPY
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    for start, size in zip(starts, sizes, strict=True):
        await commit(db, events[start : start + size])

    async with running(relay):
        await eventually(lambda: drained(db))

    stored = await stream_messages(bus, STREAM)
    assert [m.subject for m in stored] == [e.spec.subject for e in events]
    assert [(m.headers or {})["Nats-Msg-Id"] for m in stored] == [str(e.id) for e in events]
    assert [CloudEvent.model_validate_json(m.data or b"") for m in stored] == events
    assert relay.published == len(events)
    assert OUTBOX_PUBLISHED.labels("outbox-test")._value.get() - before == len(events)


async def test_the_relay_wakes_on_notify_well_before_its_poll_interval(
    db: Database, bus: Bus
) -> None:
    relay = Relay(db.url, bus, poll_interval=30.0)
    async with running(relay):
        await commit(db, [contact_event(0)])  # also covers a relay still connecting
        await eventually(lambda: drained(db))
        await asyncio.sleep(0.1)  # the relay is now idle, listening

        started = asyncio.get_running_loop().time()
        await commit(db, [contact_event(1)])
        await eventually(lambda: drained(db), interval=0.005)
        latency = asyncio.get_running_loop().time() - started
    assert latency < 0.5
    assert len(await published_ids(bus)) == 2


async def test_the_relay_publishes_on_its_poll_tick_when_a_notification_is_missed(
    db: Database, bus: Bus
) -> None:
    relay = Relay(db.url, bus, poll_interval=0.3)
    async with running(relay):
        await asyncio.sleep(0.2)
        event = contact_event(1)
        async with db.unit_of_work() as session:  # a row written without NOTIFY
            await session.execute(
                sa.insert(outbox).values(
                    event_id=event.id,
                    subject=event.spec.subject,
                    body=event.model_dump_json().encode(),
                )
            )
        await eventually(lambda: drained(db), timeout=2)
    assert await published_ids(bus) == [str(event.id)]


async def test_two_relays_on_one_database_publish_each_event_once_and_in_order(
    db: Database, bus: Bus, nats_server: NatsUnderTest
) -> None:
    events = [contact_event(n) for n in range(600)]
    relay = Relay(db.url, bus, batch_size=25, poll_interval=0.05)
    # The other replica runs on its own event loop and connection, as another process would.
    other_bus = Bus(nats_server.url, client_name="replica")
    other = Relay(db.url, other_bus, batch_size=25, poll_interval=0.05)
    async with running(relay), in_thread(other, other_bus):
        for chunk in range(0, len(events), 20):  # written while both relays run
            await commit(db, events[chunk : chunk + 20])
            await asyncio.sleep(0.01)
        await eventually(lambda: drained(db))

    assert await published_ids(bus) == [str(e.id) for e in events]
    assert relay.published + other.published == len(events)


async def test_a_standby_relay_publishes_nothing_while_another_holds_the_outbox(
    db: Database, bus: Bus
) -> None:
    async with running(Relay(db.url, bus, poll_interval=0.05)):
        async with db.sessions() as session, session.begin():  # a relay of another process

            async def locked() -> bool:
                return bool((await session.execute(sa.text(RELAY_LOCK_SQL))).scalar_one())

            await eventually(locked)
            await commit(db, [contact_event(1)])
            await asyncio.sleep(0.3)
            assert await published_ids(bus) == []
        await eventually(lambda: drained(db))  # the lock is free again


@asynccontextmanager
async def in_thread(relay: Relay, bus: Bus) -> AsyncIterator[None]:
    """Run a relay and its bus on an event loop of their own, in another thread."""
    ready = threading.Event()
    loop_box: list[asyncio.AbstractEventLoop] = []

    async def main() -> None:
        loop_box.append(asyncio.get_running_loop())
        await bus.connect()
        ready.set()
        try:
            await relay.run()
        finally:
            await bus.close()

    thread = asyncio.create_task(asyncio.to_thread(asyncio.run, main()))
    await asyncio.to_thread(ready.wait, 10)
    try:
        yield
    finally:
        loop_box[0].call_soon_threadsafe(relay.stop)
        await thread


@pytest.mark.parametrize("count", [3, 150], ids=["insert", "copy"])
async def test_events_carry_the_trace_they_were_recorded_in_unless_they_have_their_own(
    db: Database, count: int
) -> None:
    own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    events = [contact_event(n) for n in range(count)]
    events[1].traceparent = own
    provider = TracerProvider()
    with provider.get_tracer("test").start_as_current_span("use case") as span:
        await commit(db, events)
        current = current_traceparent()
    async with db.unit_of_work() as session:
        rows = (await session.execute(sa.select(outbox).order_by(outbox.c.id))).mappings().all()

    assert span.get_span_context().is_valid
    assert current is not None
    expected = [own if n == 1 else current for n in range(count)]
    assert [json.loads(r["body"])["traceparent"] for r in rows] == expected
    assert [r["headers"] for r in rows] == [{"traceparent": t} for t in expected]


async def test_events_recorded_outside_any_trace_have_no_trace_header(db: Database) -> None:
    await commit(db, [contact_event(1)])
    async with db.unit_of_work() as session:
        row = (await session.execute(sa.select(outbox))).mappings().one()
    assert row["headers"] == {}
    assert json.loads(row["body"])["traceparent"] is None
