"""Collections under test: the service on real PostgreSQL and NATS, fed monitoring's events,
deciding contacts by a fixed wall clock (10:00 in Shanghai, inside every pack's hours).

The client signs every call as ``admin`` (tests/principals.py), the way the gateway would;
a test acting as someone else passes ``auth=signed(collector("alice"))``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from collections_service.main import create_app
from collections_service.settings import CollectionsSettings
from postloan_testing.plugin import NatsUnderTest
from postloan_testing.servers import running
from principals import PRINCIPAL_SECRET, signed
from scoring_events import Monitoring
from shared.db import asyncpg_dsn

#: 10:00 in Asia/Shanghai: contacts are allowed by the hours of both packs.
NOW = datetime(2026, 2, 16, 2, 0, tzinfo=UTC)


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def collections_settings(database_url: str, nats_server: NatsUnderTest) -> CollectionsSettings:
    return CollectionsSettings(
        database_url=database_url,
        nats_url=nats_server.url,
        outbox_poll_interval_s=0.1,
        deferral_poll_interval_s=0.1,
        lender_contact_line="400-800-0000",
        principal_secret=SecretStr(PRINCIPAL_SECRET),
    )


@pytest.fixture
async def collections(
    collections_settings: CollectionsSettings, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(collections_settings, clock=clock)) as client:
        client.auth = signed()
        yield client


@pytest.fixture
def monitoring(nats_server: NatsUnderTest) -> Monitoring:
    return Monitoring(nats_server.url)


async def published(nats_url: str, subject: str) -> list[dict[str, Any]]:
    """Every event collections published on ``subject`` so far (the data of each), in order."""
    return await Monitoring(nats_url).events(subject, stream="POSTLOAN_COLLECTIONS")


async def tiers_known(database_url: str, loans: int) -> bool:
    """Whether collections holds a tier for ``loans`` loans it knows (scores come on a durable
    of their own, so a test waits for them before the facts that read the tier)."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        known = await conn.fetchval(
            "SELECT count(*) FROM loan_ref JOIN loan_state USING (loan_id) WHERE tier IS NOT NULL"
        )
    finally:
        await conn.close()
    return bool(known == loans)
