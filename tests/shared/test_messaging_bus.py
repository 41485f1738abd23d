"""The bus: stream provisioning and ordered, deduplicated publishing (real NATS JetStream)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from nats.js.api import StorageType, StreamConfig

from postloan_testing.messaging import stream_messages
from postloan_testing.plugin import NatsUnderTest
from shared.events import DOMAINS, stream_for_domain
from shared.messaging.bus import (
    DEAD_LETTER_STREAM,
    DUPLICATE_WINDOW_S,
    PUBLISH_ACK_TIMEOUT_S,
    Bus,
    OutgoingMessage,
    StreamConfigError,
    stream_configs,
)
from shared.messaging.outbox import MAX_BACKOFF_S

STREAMS = {stream_for_domain(d) for d in DOMAINS} | {DEAD_LETTER_STREAM}


@pytest.fixture
async def bus(nats_server: NatsUnderTest) -> AsyncIterator[Bus]:
    bus = Bus(nats_server.url, client_name="test-bus")
    await bus.connect()
    yield bus
    await bus.close()


def message(subject: str, n: int, msg_id: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(subject, str(n).encode(), msg_id or str(uuid.uuid4()), {})


async def test_provisioning_creates_one_file_stream_per_domain_plus_dead_letters(
    bus: Bus,
) -> None:
    await bus.provision()

    names = {info.config.name for info in await bus.js.streams_info()}
    assert names == STREAMS
    for name in STREAMS:
        config = (await bus.js.stream_info(name)).config
        assert config.storage == StorageType.FILE
        assert config.duplicate_window == DUPLICATE_WINDOW_S


async def test_the_duplicate_window_outlasts_the_relays_longest_retry() -> None:
    assert DUPLICATE_WINDOW_S >= MAX_BACKOFF_S + PUBLISH_ACK_TIMEOUT_S
    assert all(c.duplicate_window == DUPLICATE_WINDOW_S for c in stream_configs(1))


async def test_provisioning_twice_and_concurrently_is_harmless_and_keeps_messages(
    bus: Bus, nats_server: NatsUnderTest
) -> None:
    await bus.provision()
    await bus.publish_batch([message("postloan.ingest.contact.updated", 1)])
    others = [Bus(nats_server.url, client_name=f"svc-{i}") for i in range(4)]
    await asyncio.gather(*(b.connect() for b in others))
    try:
        await asyncio.gather(*(b.provision() for b in others))  # every service starting at once
        await bus.provision()
    finally:
        await asyncio.gather(*(b.close() for b in others))

    assert {info.config.name for info in await bus.js.streams_info()} == STREAMS
    assert len(await stream_messages(bus, "POSTLOAN_INGEST")) == 1


async def test_provisioning_updates_a_stream_made_with_an_older_config(bus: Bus) -> None:
    await bus.js.add_stream(
        StreamConfig(
            name="POSTLOAN_INGEST",
            subjects=["postloan.ingest.loan.>"],
            storage=StorageType.FILE,
            duplicate_window=60,
            max_age=3600,
        )
    )
    await bus.provision()

    config = (await bus.js.stream_info("POSTLOAN_INGEST")).config
    assert config.subjects == ["postloan.ingest.>"]
    assert config.duplicate_window == DUPLICATE_WINDOW_S
    assert config.max_age == 14 * 24 * 3600


async def test_provisioning_refuses_a_stream_it_cannot_convert_to_file_storage(bus: Bus) -> None:
    await bus.js.add_stream(
        StreamConfig(
            name="POSTLOAN_INGEST", subjects=["postloan.ingest.>"], storage=StorageType.MEMORY
        )
    )
    with pytest.raises(StreamConfigError, match="POSTLOAN_INGEST"):
        await bus.provision()


async def test_a_batch_is_stored_in_order_with_the_message_id_and_duplicates_dropped(
    bus: Bus,
) -> None:
    await bus.provision()
    batch = [message(f"postloan.ingest.{s}", n) for n in range(50) for s in ("a", "b")]

    assert await bus.publish_batch(batch) == len(batch)
    assert await bus.publish_batch(batch[:10]) == 10  # re-sent after a lost acknowledgement

    stored = await stream_messages(bus, "POSTLOAN_INGEST")
    assert [(m.subject, m.data) for m in stored] == [(m.subject, m.body) for m in batch]
    assert [(m.headers or {})["Nats-Msg-Id"] for m in stored] == [m.msg_id for m in batch]


async def test_a_batch_published_with_no_stream_to_store_it_counts_as_not_stored(
    bus: Bus,
) -> None:
    assert await bus.publish_batch([message("postloan.ingest.contact.updated", 1)]) == 0


async def test_nothing_is_published_while_the_connection_is_closed(bus: Bus) -> None:
    await bus.provision()
    await bus.nc.close()
    assert await bus.publish_batch([message("postloan.ingest.contact.updated", 1)]) == 0
