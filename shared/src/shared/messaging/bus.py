"""The NATS JetStream connection of one process: streams, publishing, dead letters."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, PubAck, StorageType, StreamConfig
from nats.js.errors import BadRequestError, ServerError

from shared.events import DOMAINS, stream_for_domain

log = logging.getLogger(__name__)

DEAD_LETTER_STREAM = "POSTLOAN_DEADLETTER"
DEAD_LETTER_PREFIX = "postloan.deadletter"
#: Far longer than the relay's longest pause between two attempts at the same outbox row
#: (``outbox.MAX_BACKOFF_S`` plus ``PUBLISH_ACK_TIMEOUT_S``), so that a batch re-published
#: after a lost acknowledgement is dropped by the server; the inbox catches anything later.
DUPLICATE_WINDOW_S = 600.0
RETENTION_S = 14 * 24 * 3600.0
#: How long one batch may wait for all its acknowledgements (they arrive in ~ms when healthy).
PUBLISH_ACK_TIMEOUT_S = 5.0
#: JetStream's error code for "stream name already in use with a different configuration".
STREAM_EXISTS = 10058


@dataclass(frozen=True)
class OutgoingMessage:
    subject: str
    body: bytes
    msg_id: str
    headers: dict[str, str]


def stream_configs(replicas: int) -> list[StreamConfig]:
    """One file-backed stream per event domain, plus the dead-letter stream."""
    names = [(stream_for_domain(d), f"postloan.{d}.>") for d in DOMAINS]
    names.append((DEAD_LETTER_STREAM, f"{DEAD_LETTER_PREFIX}.>"))
    return [
        StreamConfig(
            name=name,
            subjects=[subjects],
            storage=StorageType.FILE,
            num_replicas=replicas,
            duplicate_window=DUPLICATE_WINDOW_S,
            max_age=RETENTION_S,
            discard=DiscardPolicy.OLD,
        )
        for name, subjects in names
    ]


class StreamConfigError(RuntimeError):
    """An existing stream differs from ours in a way JetStream cannot update in place."""


class Bus:
    """A NATS connection with JetStream, reconnecting forever; built in the app lifespan."""

    def __init__(self, url: str, *, client_name: str, replicas: int = 1) -> None:
        self.url = url
        self.client_name = client_name
        self.replicas = replicas
        #: Bumped on every reconnect, so that pull consumers know to re-create their
        #: subscription (nats.py's pull subscriptions can stall after a server restart).
        self.reconnects = 0
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._closing = False
        self._connected = asyncio.Event()
        self._disconnected = asyncio.Event()

    @property
    def nc(self) -> Client:
        if self._nc is None:
            raise RuntimeError("Bus.connect() has not been called")
        return self._nc

    @property
    def js(self) -> JetStreamContext:
        # One context for the life of the connection: each new context would open another
        # reply subscription for its asynchronous publishes.
        if self._js is None:
            raise RuntimeError("Bus.connect() has not been called")
        return self._js

    @property
    def is_connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def connect(self) -> None:
        self._nc = await nats.connect(
            servers=self.url.split(","),
            name=self.client_name,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            allow_reconnect=True,
            connect_timeout=5,
            # Notice a dead server in ~30 s even when no TCP reset arrives (k8s, NAT).
            ping_interval=10,
            max_outstanding_pings=3,
            drain_timeout=10,  # shutdown stays inside a pod's grace period
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
        )
        self._js = self._nc.jetstream(timeout=5.0)
        self._connected.set()

    async def wait_connected(self) -> None:
        """Return once the connection is up (at once when it is)."""
        await self._connected.wait()

    async def provision(self, configs: Iterable[StreamConfig] | None = None) -> None:
        """Create or update the streams; safe to run on every start of every service at once."""
        for config in configs or stream_configs(self.replicas):
            try:
                await self.js.add_stream(config)  # the same config again is a no-op
                continue
            except BadRequestError as exc:
                if exc.err_code != STREAM_EXISTS:
                    raise
            try:
                await self.js.update_stream(config)
            except (BadRequestError, ServerError) as exc:
                raise StreamConfigError(
                    f"stream {config.name} exists with settings that cannot be changed in place "
                    f"({exc.description}); migrate it by hand"
                ) from exc

    async def publish_batch(self, messages: Sequence[OutgoingMessage]) -> int:
        """Publish in order with ``Nats-Msg-Id``; return how many, from the first, were stored.

        Publishes are pipelined and acknowledged together. Nothing is handed to nats.py while
        it is reconnecting: its reconnect buffer would send those messages after ones lost
        with the old connection, out of order. One gap remains: when the connection dies
        mid-batch, what nats.py had buffered but not yet written is sent after the reconnect,
        possibly ahead of earlier messages lost with the socket; the caller's retry then
        stores those after them (nothing is lost or duplicated, but that pair is reordered).
        """
        futures: list[asyncio.Future[PubAck]] = []
        self._disconnected.clear()
        try:
            for m in messages:
                if not self.is_connected:
                    break
                headers = {**m.headers, "Nats-Msg-Id": m.msg_id}
                futures.append(await self.js.publish_async(m.subject, m.body, headers=headers))
        except nats.errors.Error as exc:  # closed, draining, buffer full: retried by the caller
            log.warning("publish interrupted: %s", exc)
        if futures:
            # Stop waiting when the connection drops: nats.py would leave these pending.
            acks: asyncio.Future[Any] = asyncio.gather(*futures, return_exceptions=True)
            lost: asyncio.Future[Any] = asyncio.ensure_future(self._disconnected.wait())
            done = asyncio.FIRST_COMPLETED
            await asyncio.wait({acks, lost}, timeout=PUBLISH_ACK_TIMEOUT_S, return_when=done)
            lost.cancel()
        return _stored_prefix(futures)

    async def close(self) -> None:
        """Drain: finish what is in flight, then close."""
        if self._nc is None or self._nc.is_closed:
            return
        self._closing = True
        try:
            await self._nc.drain()
        except Exception as exc:
            log.warning("NATS drain failed: %s", exc)
            try:
                await self._nc.close()
            except Exception as close_exc:  # the socket may already be gone
                log.debug("NATS close failed: %s", close_exc)

    async def _on_error(self, exc: Exception) -> None:
        log.warning("NATS error: %s", exc)

    async def _on_disconnected(self) -> None:
        self._connected.clear()
        self._disconnected.set()
        if not self._closing:
            log.warning("NATS disconnected; reconnecting")

    async def _on_reconnected(self) -> None:
        self.reconnects += 1
        self._connected.set()
        log.info("NATS reconnected")


def _stored_prefix(futures: Sequence[asyncio.Future[PubAck]]) -> int:
    """Length of the leading run of acknowledged publishes; settle every other future."""
    stored, broken, after_gap = 0, False, 0
    for future in futures:
        if not future.done():
            future.cancel()  # no acknowledgement in time: count it as lost
        failed = future.cancelled() or future.exception() is not None  # retrieves the error
        if failed and not broken:
            reason = "timed out" if future.cancelled() else future.exception()
            log.warning("publish not acknowledged: %s", reason)
        broken = broken or failed
        if not broken:
            stored += 1
        elif not failed:
            after_gap += 1
    if after_gap:
        # Only possible when a connection dies mid-batch; the retry re-sends these (dropped as
        # duplicates) after the lost ones, which then land behind them in the stream.
        log.warning("%d events were stored after a lost one; order may differ", after_gap)
    return stored
