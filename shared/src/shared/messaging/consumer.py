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
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import nats.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry.trace import SpanKind
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.events import BY_TYPE, CloudEvent, Payload, UnknownEventType
from shared.messaging.bus import DEAD_LETTER_PREFIX, Bus
from shared.messaging.schema import inbox
from shared.metrics import DEAD_LETTERS, EVENT_LAG, EVENTS_CONSUMED
from shared.telemetry import context_from, tracer

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, CloudEvent, Payload], Awaitable[None]]

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    OperationalError,
    InterfaceError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    nats.errors.ConnectionClosedError,
)
FETCH_TIMEOUT_S = 1.0
STALL_CHECK_S = 10.0


class PoisonEvent(Exception):
    """An event that no retry can apply (malformed, unknown type, wrong schema)."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, TRANSIENT_ERRORS)


@dataclass(frozen=True)
class Subscription:
    """A durable consumer of one stream: the event types it handles and how."""

    durable: str
    stream: str
    handlers: Mapping[str, Handler]

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
    backoff_s: Sequence[float] = field(default_factory=lambda: (0.2, 1.0, 5.0, 15.0, 30.0))


def parse(msg: Msg, handlers: Mapping[str, Handler]) -> tuple[CloudEvent, Payload]:
    """Envelope and typed payload of a message, or :class:`PoisonEvent` saying what is wrong."""
    try:
        event = CloudEvent.model_validate_json(msg.data)
        if event.type not in handlers:
            raise UnknownEventType(event.type)
        return event, event.payload()
    except (ValidationError, ValueError) as exc:
        raise PoisonEvent(str(exc)) from exc


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

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Fetch and apply batches; survive NATS and database outages."""
        sub = None
        idle_since = asyncio.get_running_loop().time()
        while not self._stopping.is_set():
            try:
                if sub is None:
                    sub = await self._subscribe()
                msgs = await asyncio.wait_for(
                    sub.fetch(self._opts.batch_size, timeout=FETCH_TIMEOUT_S),
                    timeout=FETCH_TIMEOUT_S + 5,
                )
            except (nats.errors.TimeoutError, TimeoutError):
                # nats.py can stall after a server restart: the consumer has messages but the
                # fetches come back empty. Re-create the subscription when that is seen.
                if asyncio.get_running_loop().time() - idle_since > STALL_CHECK_S:
                    idle_since = asyncio.get_running_loop().time()
                    if sub is not None and await self._stalled(sub):
                        log.warning("consumer %s stalled; resubscribing", self.subscription.durable)
                        await self._drop(sub)
                        sub = None
                continue
            except Exception as exc:
                log.warning("consumer %s fetch failed: %s", self.subscription.durable, exc)
                await self._drop(sub)
                sub = None
                await self._pause(1.0)
                continue
            idle_since = asyncio.get_running_loop().time()
            try:
                await self.process(msgs)
            except Exception as exc:  # unacknowledged messages come back after ack_wait
                log.warning("consumer %s batch interrupted: %s", self.subscription.durable, exc)
        if sub is not None:
            await self._drop(sub)

    async def process(self, msgs: list[Msg]) -> None:
        """Apply one fetched batch, acknowledging each message exactly when it is settled."""
        parsed: list[_Parsed] = []
        for msg in msgs:
            try:
                event, payload = parse(msg, self.subscription.handlers)
            except PoisonEvent as exc:
                await self._dead_letter(msg, str(exc))
                continue
            parsed.append(_Parsed(msg, event, payload))
        if not parsed:
            return
        try:
            await self._apply(parsed)
        except Exception as exc:
            if is_transient(exc):
                log.warning("batch deferred, infrastructure error: %s", exc)
                await asyncio.gather(*(self._nak(p.msg) for p in parsed))
                return
            for item in parsed:
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
            fresh = set(
                (
                    await session.execute(
                        insert(inbox)
                        .values([{"consumer": name, "event_id": i} for i in ids])
                        .on_conflict_do_nothing()
                        .returning(inbox.c.event_id)
                    )
                ).scalars()
            )
            for item in items:
                if item.event.id not in fresh:
                    EVENTS_CONSUMED.labels(name, "duplicate").inc()
                    continue
                fresh.discard(item.event.id)  # the same id twice in one batch applies once
                await self._handle(session, item)
        now = datetime.now(UTC)
        for item in items:
            EVENT_LAG.labels(name).observe(max(0.0, (now - item.event.time).total_seconds()))

    async def _handle(self, session: AsyncSession, item: _Parsed) -> None:
        handler = self.subscription.handlers[item.event.type]
        parent = context_from({"traceparent": item.event.traceparent or ""} | _headers(item.msg))
        with self._tracer.start_as_current_span(
            f"consume {item.event.type}",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes={"messaging.system": "nats", "cloudevents.event_id": str(item.event.id)},
        ):
            await handler(session, item.event, item.payload)
        EVENTS_CONSUMED.labels(self.subscription.durable, "applied").inc()

    async def _dead_letter(self, msg: Msg, error: str) -> None:
        meta = msg.metadata
        headers = {
            "Nats-Msg-Id": f"{self.subscription.durable}:{meta.stream}:{meta.sequence.stream}",
            "Postloan-Error": error[:2000].replace("\r", " ").replace("\n", " "),
            "Postloan-Consumer": self.subscription.durable,
            "Postloan-Original-Subject": msg.subject,
            "Postloan-Deliveries": str(meta.num_delivered),
        }
        subject = f"{DEAD_LETTER_PREFIX}.{self.subscription.durable}"
        try:
            await self._bus.js.publish(subject, msg.data, headers=headers)
        except Exception as exc:  # keep the message until the dead letter is safely stored
            log.warning("dead-lettering failed (%s); will retry", exc)
            await self._nak(msg)
            return
        DEAD_LETTERS.labels(self.subscription.durable).inc()
        log.error("event dead-lettered by %s: %s", self.subscription.durable, error[:500])
        await msg.term()

    async def _nak(self, msg: Msg) -> None:
        backoff = self._opts.backoff_s
        delay = backoff[min(msg.metadata.num_delivered, len(backoff)) - 1]
        try:
            await msg.nak(delay=delay)
        except Exception as exc:  # the server redelivers after ack_wait anyway
            log.warning("nak failed: %s", exc)

    async def _subscribe(self) -> nats.js.JetStreamContext.PullSubscription:
        s = self.subscription
        config = ConsumerConfig(
            durable_name=s.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self._opts.ack_wait_s,
            max_deliver=-1,
            max_ack_pending=max(1000, self._opts.batch_size * 4),
            filter_subjects=s.subjects,
        )
        await self._bus.js.add_consumer(s.stream, config)
        return await self._bus.js.pull_subscribe_bind(s.durable, stream=s.stream)

    async def _stalled(self, sub: nats.js.JetStreamContext.PullSubscription) -> bool:
        try:
            info = await sub.consumer_info()
        except Exception:
            return True
        return bool(info.num_pending)

    async def _drop(self, sub: nats.js.JetStreamContext.PullSubscription | None) -> None:
        if sub is not None:
            try:
                await sub.unsubscribe()
            except Exception as exc:
                log.debug("unsubscribe failed: %s", exc)
        return None

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            pass


def _headers(msg: Msg) -> dict[str, str]:
    return {k.lower(): v for k, v in (msg.headers or {}).items()}


def dead_letter_info(msg: Msg) -> dict[str, str]:
    """The error and origin recorded on a dead-lettered message (for tools and tests)."""
    headers = msg.headers or {}
    return {k: v for k, v in headers.items() if k.startswith("Postloan-")} | {
        "body": json.dumps(msg.data.decode(errors="replace"))
    }
