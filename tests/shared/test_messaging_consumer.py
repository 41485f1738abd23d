"""Consumers: the inbox, retries and dead letters, against real PostgreSQL and NATS JetStream."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from nats.js.api import RawStreamMsg
from nats.js.errors import NotFoundError
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession

from postloan_testing.messaging import running, stream_messages
from postloan_testing.plugin import NatsUnderTest, eventually
from shared.db import Database, migrate
from shared.events import (
    CloudEvent,
    ContactUpdated,
    Payload,
    PaymentReversed,
    make_event,
    spec_for,
)
from shared.messaging.bus import DEAD_LETTER_STREAM, Bus
from shared.messaging.consumer import (
    Consumer,
    ConsumerOptions,
    On,
    OnMany,
    Subscription,
    handler_table,
)
from shared.messaging.outbox import Relay, enqueue
from shared.telemetry import add_span_processor, setup_tracing, tracer

CONTACT = spec_for(ContactUpdated)
DURABLE = "test-contacts"
FAST = ConsumerOptions(batch_size=50, max_deliveries=3, ack_wait_s=5, backoff_s=(0.05, 0.1))


class Recorder:
    """The test's handler: records each event it applies; fails for the borrowers it is told."""

    def __init__(self) -> None:
        self.failing: dict[str, Exception] = {}
        self.calls: Counter[str] = Counter()

    async def __call__(self, session: AsyncSession, event: CloudEvent, payload: Payload) -> None:
        assert isinstance(payload, ContactUpdated)
        self.calls[payload.borrower_id] += 1
        if payload.borrower_id in self.failing:
            raise self.failing[payload.borrower_id]
        await session.execute(
            sa.text("INSERT INTO applied (event_id, borrower_id) VALUES (:id, :borrower)"),
            {"id": event.id, "borrower": payload.borrower_id},
        )


def contact_event(n: int) -> CloudEvent:
    payload = ContactUpdated(borrower_id=f"B-{n:04d}", updated_at=datetime.now(UTC))
    return make_event(payload, source="test", subject=payload.borrower_id)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    await migrate(database_url, None)
    database = Database(database_url, pool_size=4)
    async with database.unit_of_work() as session:
        await session.execute(
            sa.text(
                "CREATE TABLE applied (seq bigserial PRIMARY KEY, event_id uuid, borrower_id text)"
            )
        )
    yield database
    await database.dispose()


@pytest.fixture
async def bus(nats_server: NatsUnderTest) -> AsyncIterator[Bus]:
    bus = Bus(nats_server.url, client_name="test-consumer")
    await bus.connect()
    await bus.provision()
    yield bus
    await bus.close()


@pytest.fixture(scope="session")
def span_exporter() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    setup_tracing("postloan-tests")
    add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def spans(span_exporter: InMemorySpanExporter) -> InMemorySpanExporter:
    span_exporter.clear()
    return span_exporter


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def consumer(db: Database, bus: Bus, recorder: Recorder) -> Consumer:
    subscription = Subscription(DURABLE, CONTACT.stream, {CONTACT.type: recorder})
    return Consumer(subscription, bus=bus, db=db, options=FAST)


async def publish(bus: Bus, body: bytes, *, msg_id: str | None = None) -> None:
    headers = {"Nats-Msg-Id": msg_id or str(uuid.uuid4())}
    await bus.js.publish(CONTACT.subject, body, headers=headers)


async def applied(db: Database) -> list[str]:
    async with db.unit_of_work() as session:
        rows = await session.execute(sa.text("SELECT borrower_id FROM applied ORDER BY seq"))
        return list(rows.scalars())


async def has_applied(db: Database, count: int) -> bool:
    return len(await applied(db)) == count


async def dead_letters(bus: Bus) -> list[RawStreamMsg]:
    return await stream_messages(bus, DEAD_LETTER_STREAM)


async def settled(bus: Bus) -> bool:
    """Every message of the stream acknowledged or terminated by the consumer."""
    last = (await bus.js.stream_info(CONTACT.stream)).state.last_seq
    try:
        info = await bus.js.consumer_info(CONTACT.stream, DURABLE)
    except NotFoundError:  # not created yet
        return False
    return bool(info.ack_floor.stream_seq >= last and info.num_ack_pending == 0)


async def test_an_event_published_three_times_is_applied_once(
    db: Database, bus: Bus, consumer: Consumer
) -> None:
    deduplicated, republished = contact_event(1), contact_event(2)
    for _ in range(3):
        await publish(bus, deduplicated.model_dump_json().encode(), msg_id=str(deduplicated.id))
    for _ in range(3):  # as if re-published after JetStream's duplicate window
        await publish(bus, republished.model_dump_json().encode())

    async with running(consumer):
        await eventually(lambda: settled(bus))

    assert len(await stream_messages(bus, CONTACT.stream)) == 4
    assert await applied(db) == ["B-0001", "B-0002"]


async def test_an_event_redelivered_after_its_effect_committed_is_applied_once(
    db: Database, bus: Bus, consumer: Consumer, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    await publish(bus, contact_event(1).model_dump_json().encode())
    sub = await bus.js.pull_subscribe(CONTACT.subject, durable="manual", stream=CONTACT.stream)

    try:
        [first] = await sub.fetch(1, timeout=2)
        monkeypatch.setattr(first, "ack", first.nak)  # the effect commits, the ack is lost
        await consumer.process([first])
        [again] = await sub.fetch(1, timeout=2)
        await consumer.process([again])
    finally:
        await sub.unsubscribe()

    assert again.metadata.num_delivered == 2
    assert await applied(db) == ["B-0001"]
    assert recorder.calls["B-0001"] == 1
    info = await bus.js.consumer_info(CONTACT.stream, "manual")
    assert (info.num_pending, info.num_ack_pending) == (0, 0)  # acknowledged at last


async def test_a_failing_event_does_not_hold_back_the_others_of_its_batch(
    db: Database, bus: Bus, consumer: Consumer, recorder: Recorder
) -> None:
    recorder.failing["B-0003"] = ValueError("no such borrower")
    for n in range(1, 7):
        await publish(bus, contact_event(n).model_dump_json().encode())

    async with running(consumer):
        await eventually(lambda: has_applied(db, 5), timeout=2)
        assert await dead_letters(bus) == []  # the bad one is still being retried
        await eventually(lambda: settled(bus))

    assert await applied(db) == ["B-0001", "B-0002", "B-0004", "B-0005", "B-0006"]


async def test_an_event_that_keeps_failing_is_dead_lettered_after_max_deliveries(
    db: Database, bus: Bus, consumer: Consumer, recorder: Recorder
) -> None:
    recorder.failing["B-0001"] = ValueError("no such borrower")
    event = contact_event(1)
    await publish(bus, event.model_dump_json().encode())

    async with running(consumer):
        await eventually(lambda: settled(bus))

    [letter] = await dead_letters(bus)
    headers = letter.headers or {}
    assert letter.subject == f"postloan.deadletter.{DURABLE}"
    assert letter.data == event.model_dump_json().encode()
    assert headers["Postloan-Error"] == "ValueError: no such borrower"
    assert headers["Postloan-Deliveries"] == str(FAST.max_deliveries)
    assert headers["Postloan-Original-Subject"] == CONTACT.subject
    assert await applied(db) == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"specversion": "1.0", "id": ', "Invalid JSON"),
        (
            contact_event(0).model_copy(update={"data": {"phone": "+8613800000000"}}),
            "borrower_id",
        ),
        (
            contact_event(0).model_copy(update={"type": "postloan.ingest.contact.renamed.v1"}),
            "is not in the catalogue",
        ),
        (b"\xff\xfe binary", "Invalid JSON"),
    ],
    ids=["bad-json", "wrong-schema", "unknown-type", "not-utf8"],
)
async def test_a_malformed_event_is_dead_lettered_at_once_and_does_not_block_the_next(
    db: Database, bus: Bus, consumer: Consumer, body: bytes | CloudEvent, error: str
) -> None:
    raw = body.model_dump_json().encode() if isinstance(body, CloudEvent) else body
    await publish(bus, raw)
    await publish(bus, contact_event(1).model_dump_json().encode())

    async with running(consumer):
        await eventually(lambda: settled(bus))

    assert await applied(db) == ["B-0001"]
    [letter] = await dead_letters(bus)
    headers = letter.headers or {}
    assert letter.data == raw
    assert error in headers["Postloan-Error"]
    assert headers["Postloan-Deliveries"] == "1"
    assert headers["Postloan-Consumer"] == DURABLE


async def test_a_batch_of_many_events_is_applied_in_one_pass_each_once(
    db: Database, bus: Bus, consumer: Consumer
) -> None:
    events = [contact_event(n) for n in range(500)]
    for event in events:
        await publish(bus, event.model_dump_json().encode(), msg_id=str(event.id))

    async with running(consumer):
        await eventually(lambda: settled(bus))

    assert sorted(await applied(db)) == sorted(f"B-{n:04d}" for n in range(500))
    async with db.unit_of_work() as session:
        inbox = await session.execute(sa.text("SELECT count(*) FROM inbox"))
        assert inbox.scalar_one() == 500


async def test_the_consumer_span_is_a_child_of_the_span_that_recorded_the_event(
    db: Database, bus: Bus, consumer: Consumer, spans: InMemorySpanExporter
) -> None:
    relay = Relay(db.url, bus, poll_interval=0.05)
    with tracer("test").start_as_current_span("register loan") as producer:
        async with db.unit_of_work() as session:
            await enqueue(session, [contact_event(1)])

    async with running(relay, consumer):
        await eventually(lambda: has_applied(db, 1))

    [span] = [s for s in spans.get_finished_spans() if s.name == f"consume {CONTACT.type}"]
    assert span.kind == SpanKind.CONSUMER
    assert span.parent is not None
    assert span.parent.trace_id == producer.get_span_context().trace_id
    assert span.parent.span_id == producer.get_span_context().span_id


async def test_a_consumer_given_a_new_event_type_receives_it_on_its_existing_durable(
    db: Database, bus: Bus, consumer: Consumer, recorder: Recorder
) -> None:
    async with running(consumer):  # the durable exists, filtered on contact.updated only
        await eventually(lambda: settled(bus))
    reversed_ = spec_for(PaymentReversed)
    seen: list[str] = []

    async def on_reversal(session: AsyncSession, event: CloudEvent, payload: Payload) -> None:
        assert isinstance(payload, PaymentReversed)
        seen.append(payload.payment_id)

    wider = Subscription(
        DURABLE, CONTACT.stream, {CONTACT.type: recorder, reversed_.type: on_reversal}
    )
    reversal = PaymentReversed(
        payment_id="P-1", loan_id="L-1", reversed_at=datetime.now(UTC), reason="chargeback"
    )
    await bus.js.publish(
        reversed_.subject, make_event(reversal, source="test").model_dump_json().encode()
    )

    async with running(Consumer(wider, bus=bus, db=db, options=FAST)):
        await eventually(lambda: settled(bus))
    assert seen == ["P-1"]


def test_a_subscription_refuses_event_types_of_another_stream() -> None:
    other = spec_for(ContactUpdated).type.replace("ingest", "monitoring")
    with pytest.raises(ValueError, match="POSTLOAN_INGEST"):
        Subscription("x", "POSTLOAN_INGEST", {other: Recorder()})


async def test_inbox_rows_older_than_the_stream_keeps_events_are_pruned(
    db: Database, consumer: Consumer
) -> None:
    """Pruned at start and hourly after: rows a redelivery could still need stay."""
    old, recent, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with db.unit_of_work() as session:
        await session.execute(
            sa.text(
                "INSERT INTO inbox (consumer, event_id, applied_at) VALUES "
                "(:c, :old, now() - interval '16 days'), "
                "(:c, :recent, now() - interval '13 days'), "
                "('someone-else', :other, now() - interval '30 days')"
            ),
            {"c": DURABLE, "old": old, "recent": recent, "other": other},
        )

    async def inbox_ids() -> set[uuid.UUID]:
        async with db.unit_of_work() as session:
            return set((await session.execute(sa.text("SELECT event_id FROM inbox"))).scalars())

    async def pruned() -> bool:
        return old not in await inbox_ids()

    async with running(consumer):
        await eventually(pruned)
    assert await inbox_ids() == {recent, other}  # another consumer prunes its own
    assert await consumer.prune_inbox() == 0


async def test_a_run_handler_gets_consecutive_events_of_its_type_in_order_with_the_others(
    db: Database, bus: Bus
) -> None:
    """Set-based handlers (``OnMany``): a batch's consecutive contact updates come as one run;
    the reversal between them is applied between the two runs, and a duplicate id once."""
    reversed_ = spec_for(PaymentReversed)
    calls: list[list[str]] = []

    async def on_contacts(
        session: AsyncSession, run: Sequence[tuple[CloudEvent, ContactUpdated]]
    ) -> None:
        calls.append([payload.borrower_id for _, payload in run])

    async def on_reversal(
        session: AsyncSession, event: CloudEvent, payload: PaymentReversed
    ) -> None:
        calls.append([payload.payment_id])

    table = handler_table(OnMany(ContactUpdated, on_contacts), On(PaymentReversed, on_reversal))
    events = [contact_event(1), contact_event(2)]
    reversal = PaymentReversed(
        payment_id="P-1", loan_id="L-1", reversed_at=datetime.now(UTC), reason="chargeback"
    )
    events += [make_event(reversal, source="test"), contact_event(3), contact_event(4)]
    for event in [*events, events[3]]:  # the last one again, under another message id
        await bus.js.publish(
            event.spec.subject,
            event.model_dump_json().encode(),
            headers={"Nats-Msg-Id": str(uuid.uuid4())},
        )
    subscription = Subscription("test-runs", CONTACT.stream, table)
    options = ConsumerOptions(batch_size=50, max_deliveries=3, ack_wait_s=5, backoff_s=(0.05,))

    async def all_applied() -> bool:
        return sum(map(len, calls)) >= 5

    async with running(Consumer(subscription, bus=bus, db=db, options=options)):
        await eventually(all_applied)
    assert calls == [["B-0001", "B-0002"], ["P-1"], ["B-0003", "B-0004"]]
    assert reversed_.stream == CONTACT.stream
