"""Durable JetStream pull consumers with an idempotent inbox and a dead-letter stream.

A consumer fetches messages in batches and applies them in one transaction together with
their ids in the ``inbox`` table, so that an event delivered twice takes effect once. When a
batch fails, its messages are retried one by one to isolate the bad one: errors of the
infrastructure (database or network down) are ``nak``-ed with back-off and retried forever;
errors of the event itself are retried up to ``max_deliveries`` and then dead-lettered with
the error and ``term``-ed; events that cannot even be parsed are dead-lettered at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar, cast

import nats.errors
import sqlalchemy as sa
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database, driver_connection
from shared.events import BY_TYPE, CloudEvent, Payload, spec_for
from shared.messaging.bus import RETENTION_S, Bus
from shared.messaging.deadletter import PoisonEvent, dead_letter, parse
from shared.messaging.errors import is_transient
from shared.messaging.schema import inbox
from shared.metrics import EVENT_LAG, EVENTS_CONSUMED
from shared.telemetry import context_from, tracer

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, CloudEvent, Payload], Awaitable[None]]
P = TypeVar("P", bound=Payload)

FETCH_TIMEOUT_S = 1.0
#: After this long without a message, ask the server whether some are waiting for us.
STALL_CHECK_S = 5.0
#: An inbox row guards its event against a redelivery, and the stream keeps an event at most
#: ``RETENTION_S``: older rows are deleted (with a day to spare), once an hour per consumer.
INBOX_KEEP_S = RETENTION_S + 24 * 3600.0
PRUNE_EVERY_S = 3600.0
#: The ids of a batch not seen before, recorded as seen (in the batch's transaction).
INBOX_SQL = """
    INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::uuid[])
    ON CONFLICT DO NOTHING RETURNING event_id
"""


@dataclass(frozen=True)
class On(Generic[P]):
    """One row of a handler table: the events whose payload is ``payload`` (of ``domain``, for
    a payload class the catalogue uses in several) go to ``handler``, typed for that payload."""

    payload: type[P]
    handler: Callable[[AsyncSession, CloudEvent, P], Awaitable[None]]
    domain: str | None = None

    @property
    def event_type(self) -> str:
        return spec_for(self.payload, domain=self.domain).type


@dataclass(frozen=True)
class OnMany(Generic[P]):
    """A row whose handler takes a run of consecutive events of its type at once, to apply them
    set-based (a few statements for the run instead of a few per event). The consumer keeps the
    order: events of other types in the batch are applied before or after the run, as they came."""

    payload: type[P]
    handler: Callable[[AsyncSession, Sequence[tuple[CloudEvent, P]]], Awaitable[None]]
    domain: str | None = None

    @property
    def event_type(self) -> str:
        return spec_for(self.payload, domain=self.domain).type


ManyHandler = Callable[[AsyncSession, Sequence[tuple[CloudEvent, Payload]]], Awaitable[None]]


@dataclass(frozen=True)
class Many:
    """A run handler in a handler table; called with one event, it is a run of one."""

    handle: ManyHandler

    async def __call__(self, session: AsyncSession, event: CloudEvent, payload: Payload) -> None:
        await self.handle(session, [(event, payload)])


def handler_table(*rows: On[Any] | OnMany[Any]) -> dict[str, Handler]:
    """The dispatch table of a subscription, event type -> handler, from typed rows.

    No ``isinstance`` at dispatch: the consumer validates each event's data with the payload
    class its type names in the catalogue, so the handler of a row gets exactly its class."""
    table: dict[str, Handler] = {}
    for row in rows:
        if row.event_type in table:
            raise ValueError(f"{row.event_type!r} has two handlers")
        if isinstance(row, OnMany):
            table[row.event_type] = Many(cast(ManyHandler, row.handler))
        else:
            table[row.event_type] = cast(Handler, row.handler)
    return table


@dataclass(frozen=True)
class Subscription:
    """A durable consumer of one stream: the event types it handles and how."""

    durable: str
    stream: str
    handlers: Mapping[str, Handler]
    #: Called once per batch after its handlers, in their transaction: handlers can leave
    #: work in ``session.info`` that is cheaper done once for the batch (set-based).
    finish: Callable[[AsyncSession], Awaitable[None]] | None = None

    def __post_init__(self) -> None:
        for event_type in self.handlers:
            spec = BY_TYPE.get(event_type)
            if spec is None or spec.stream != self.stream:
                raise ValueError(f"{self.durable}: {event_type!r} is not an event of {self.stream}")

    @property
    def subjects(self) -> list[str]:
        return sorted({BY_TYPE[t].subject for t in self.handlers})


@dataclass
class _Parsed:
    msg: Msg
    event: CloudEvent
    payload: Payload


@dataclass
class ConsumerOptions:
    batch_size: int = 256
    max_deliveries: int = 5
    ack_wait_s: float = 30.0
    #: Redelivery delay after the n-th failed delivery (the last one repeats).
    backoff_s: Sequence[float] = field(default_factory=lambda: (0.2, 1.0, 5.0, 15.0, 30.0))


class Consumer:
    """Runs one :class:`Subscription` until stopped."""

    def __init__(
        self, subscription: Subscription, *, bus: Bus, db: Database, options: ConsumerOptions
    ) -> None:
        self.subscription = subscription
        self._bus = bus
        self._db = db
        self._opts = options
        self._stopping = asyncio.Event()
        self._tracer = tracer(f"shared.consumer.{subscription.durable}")
        self._sub: JetStreamContext.PullSubscription | None = None
        self._generation = -1  # the bus's reconnect count when ``_sub`` was made
        self._last_message_at = 0.0
        self._pruned_at: float | None = None  # loop time of the last inbox pruning

    def stop(self) -> None:
        self._stopping.set()

    async def prune_inbox(self) -> int:
        """Delete this consumer's inbox rows that no redelivery can need any more (older than
        the stream keeps events, with a day to spare); returns how many went."""
        keep = timedelta(seconds=INBOX_KEEP_S)
        async with self._db.unit_of_work() as session:
            result = await session.execute(
                sa.delete(inbox).where(
                    inbox.c.consumer == self.subscription.durable,
                    inbox.c.applied_at < sa.func.now() - keep,
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def _prune_now_and_then(self) -> None:
        now = asyncio.get_running_loop().time()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY_S:
            return
        self._pruned_at = now
        try:
            if pruned := await self.prune_inbox():
                log.info("consumer %s: %d old inbox rows pruned", self.subscription.durable, pruned)
        except Exception as exc:  # the next round tries again; nothing depends on it
            log.warning("consumer %s: inbox not pruned: %s", self.subscription.durable, exc)

    async def run(self) -> None:
        """Fetch and apply batches until stopped; survive NATS and database outages."""
        self._last_message_at = asyncio.get_running_loop().time()
        while not self._stopping.is_set():
            await self._prune_now_and_then()
            try:
                msgs = await self._fetch()
            except (nats.errors.TimeoutError, TimeoutError):
                msgs = []
            except Exception as exc:
                log.warning("consumer %s fetch failed: %s", self.subscription.durable, exc)
                await self._unsubscribe()
                await self._pause(1.0)
                continue
            if not msgs:
                await self._watch_for_stall()
                continue
            try:
                await self.process(msgs)
            except Exception as exc:  # unacknowledged messages come back after ack_wait
                log.warning("consumer %s batch interrupted: %s", self.subscription.durable, exc)
        await self._unsubscribe()

    async def process(self, msgs: list[Msg]) -> None:
        """Apply one fetched batch, acknowledging each message exactly when it is settled."""
        parsed: list[_Parsed] = []
        for msg in msgs:
            try:
                event, payload = parse(msg, self.subscription.handlers)
            except PoisonEvent as exc:  # no retry can help: out of the way at once
                await self._dead_letter(msg, str(exc))
                continue
            parsed.append(_Parsed(msg, event, payload))
        if not parsed:
            return
        try:
            await self._apply(parsed)
        except Exception as exc:
            if is_transient(exc):
                log.warning("batch deferred, infrastructure unavailable: %s", exc)
                await asyncio.gather(*(self._nak(p.msg) for p in parsed))
                return
            for item in parsed:  # find the bad event; the others go through
                await self._apply_one(item)
            return
        await asyncio.gather(*(p.msg.ack() for p in parsed))

    async def _apply_one(self, item: _Parsed) -> None:
        try:
            await self._apply([item])
        except Exception as exc:
            deliveries = item.msg.metadata.num_delivered
            if is_transient(exc) or deliveries < self._opts.max_deliveries:
                log.warning("event %s failed (delivery %d): %s", item.event.id, deliveries, exc)
                await self._nak(item.msg)
            else:
                await self._dead_letter(item.msg, f"{type(exc).__name__}: {exc}")
            return
        await item.msg.ack()

    async def _apply(self, items: list[_Parsed]) -> None:
        """One transaction: inbox rows for new ids, then each new event's handler, in order."""
        name = self.subscription.durable
        async with self._db.unit_of_work() as session:
            ids = list(dict.fromkeys(p.event.id for p in items))
            conn = await driver_connection(session)  # one prepared statement for any batch
            fresh = {r[0] for r in await conn.fetch(INBOX_SQL, name, ids)}
            run: list[_Parsed] = []  # consecutive events of one run handler's type
            for item in items:
                if item.event.id not in fresh:
                    EVENTS_CONSUMED.labels(name, "duplicate").inc()
                    continue
                fresh.discard(item.event.id)  # the same id twice in one batch applies once
                if run and run[0].event.type != item.event.type:
                    await self._handle_run(session, run)
                    run = []
                if isinstance(self.subscription.handlers[item.event.type], Many):
                    run.append(item)
                else:
                    await self._handle(session, item)
            if run:
                await self._handle_run(session, run)
            if self.subscription.finish is not None:
                await self.subscription.finish(session)
        now = datetime.now(UTC)
        for item in items:
            EVENT_LAG.labels(name).observe(max(0.0, (now - item.event.time).total_seconds()))

    async def _handle(self, session: AsyncSession, item: _Parsed) -> None:
        handler = self.subscription.handlers[item.event.type]
        carrier = {k.lower(): v for k, v in (item.msg.headers or {}).items()}
        if item.event.traceparent:  # the envelope's copy survives any re-publishing
            carrier["traceparent"] = item.event.traceparent
        with self._tracer.start_as_current_span(
            f"consume {item.event.type}",
            context=context_from(carrier),
            kind=SpanKind.CONSUMER,
            attributes={"messaging.system": "nats", "cloudevents.event_id": str(item.event.id)},
        ):
            await handler(session, item.event, item.payload)
        EVENTS_CONSUMED.labels(self.subscription.durable, "applied").inc()

    async def _handle_run(self, session: AsyncSession, run: list[_Parsed]) -> None:
        many = self.subscription.handlers[run[0].event.type]
        assert isinstance(many, Many)
        first = run[0]
        carrier = {k.lower(): v for k, v in (first.msg.headers or {}).items()}
        if first.event.traceparent:
            carrier["traceparent"] = first.event.traceparent
        with self._tracer.start_as_current_span(
            f"consume {first.event.type}",
            context=context_from(carrier),
            kind=SpanKind.CONSUMER,
            attributes={"messaging.system": "nats", "messaging.batch.message_count": len(run)},
        ):
            await many.handle(session, [(item.event, item.payload) for item in run])
        EVENTS_CONSUMED.labels(self.subscription.durable, "applied").inc(len(run))

    async def _dead_letter(self, msg: Msg, error: str) -> None:
        try:
            await dead_letter(self._bus, msg, consumer=self.subscription.durable, error=error)
        except Exception as exc:  # keep the message until its dead letter is safely stored
            log.warning("dead-lettering failed (%s); will retry", exc)
            await self._nak(msg)
            return
        await msg.term()

    async def _nak(self, msg: Msg) -> None:
        backoff = self._opts.backoff_s
        delay = backoff[min(msg.metadata.num_delivered, len(backoff)) - 1]
        try:
            await msg.nak(delay=delay)
        except Exception as exc:  # the server redelivers after ack_wait anyway
            log.warning("nak failed: %s", exc)

    async def _fetch(self) -> list[Msg]:
        if self._sub is None or self._generation != self._bus.reconnects:
            # A pull subscription from before a reconnect may never see a message again
            # (nats.py), so every reconnect gets a fresh one.
            await self._unsubscribe()
            self._generation = self._bus.reconnects
            self._sub = await self._subscribe()
        msgs: list[Msg] = await self._sub.fetch(self._opts.batch_size, timeout=FETCH_TIMEOUT_S)
        if msgs:
            self._last_message_at = asyncio.get_running_loop().time()
        return msgs

    async def _subscribe(self) -> JetStreamContext.PullSubscription:
        s = self.subscription
        config = ConsumerConfig(
            durable_name=s.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self._opts.ack_wait_s,
            max_deliver=-1,  # we decide when to give up, and record why
            max_ack_pending=max(1000, self._opts.batch_size * 4),
            filter_subjects=s.subjects,
        )
        await self._bus.js.add_consumer(s.stream, config)  # creates, or updates the filter
        return await self._bus.js.pull_subscribe_bind(s.durable, stream=s.stream)

    async def _watch_for_stall(self) -> None:
        """Resubscribe when fetches come back empty while the server holds messages for us."""
        now = asyncio.get_running_loop().time()
        if self._sub is None or now - self._last_message_at < STALL_CHECK_S:
            return
        self._last_message_at = now  # check again only after another quiet period
        try:
            stalled = bool((await self._sub.consumer_info()).num_pending)
        except Exception:  # the consumer is unreachable through this subscription
            stalled = True
        if stalled:
            log.warning("consumer %s stalled; resubscribing", self.subscription.durable)
            await self._unsubscribe()

    async def _unsubscribe(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            try:
                await sub.unsubscribe()
            except Exception as exc:  # gone with the old connection
                log.debug("unsubscribe failed: %s", exc)

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            pass
