"""The NATS JetStream connection of one process: streams, publishing, dead letters."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from shared.events import DOMAINS, stream_for_domain

log = logging.getLogger(__name__)

DEAD_LETTER_STREAM = "POSTLOAN_DEADLETTER"
DEAD_LETTER_PREFIX = "postloan.deadletter"
#: Longer than the relay's longest back-off, so a re-published batch is dropped by the server.
DUPLICATE_WINDOW_S = 600.0
RETENTION_S = 14 * 24 * 3600.0
PUBLISH_ACK_TIMEOUT_S = 5.0


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


class Bus:
    """A NATS connection with JetStream, reconnecting forever; built in the app lifespan."""

    def __init__(self, url: str, *, client_name: str, replicas: int = 1) -> None:
        self.url = url
        self.client_name = client_name
        self.replicas = replicas
        self._nc: Client | None = None

    @property
    def nc(self) -> Client:
        if self._nc is None:
            raise RuntimeError("Bus.connect() has not been called")
        return self._nc

    @property
    def js(self) -> JetStreamContext:
        return self.nc.jetstream(timeout=5.0)

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
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
        )

    async def provision(self, configs: Iterable[StreamConfig] | None = None) -> None:
        """Create or update the streams; safe to run on every start of every service."""
        for config in configs or stream_configs(self.replicas):
            try:
                await self.js.stream_info(config.name or "")
            except NotFoundError:
                try:
                    await self.js.add_stream(config)
                except BadRequestError:  # created concurrently by another service
                    pass
                continue
            await self.js.update_stream(config)

    async def publish_batch(self, messages: Sequence[OutgoingMessage]) -> list[bool]:
        """Publish in order with ``Nats-Msg-Id``; return which ones JetStream acknowledged."""
        futures = []
        for m in messages:
            headers = {"Nats-Msg-Id": m.msg_id, **m.headers}
            futures.append(await self.js.publish_async(m.subject, m.body, headers=headers))
        acked = []
        for future in futures:
            try:
                await asyncio.wait_for(future, PUBLISH_ACK_TIMEOUT_S)
                acked.append(True)
            except Exception as exc:  # each failure is retried by the caller
                log.warning("publish not acknowledged: %s", exc)
                acked.append(False)
        return acked

    async def close(self) -> None:
        """Drain: finish what is in flight, then close."""
        if self._nc is not None and not self._nc.is_closed:
            try:
                await self._nc.drain()
            except Exception as exc:
                log.warning("NATS drain failed: %s", exc)
                await self._nc.close()

    async def _on_error(self, exc: Exception) -> None:
        log.warning("NATS error: %s", exc)

    async def _on_disconnected(self) -> None:
        log.warning("NATS disconnected; reconnecting")

    async def _on_reconnected(self) -> None:
        log.info("NATS reconnected")
