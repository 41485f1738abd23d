"""Notify under test: the service on real PostgreSQL and NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from notify.main import create_app
from notify.settings import NotifySettings
from postloan_testing.plugin import NatsUnderTest
from postloan_testing.servers import running
from shared.db import Database


@pytest.fixture
def notify_settings(database_url: str, nats_server: NatsUnderTest) -> NotifySettings:
    return NotifySettings(
        database_url=database_url, nats_url=nats_server.url, outbox_poll_interval_s=0.2
    )


@pytest.fixture
async def notify(notify_settings: NotifySettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(notify_settings)) as client:
        yield client


@pytest.fixture
async def notify_db(
    notify_settings: NotifySettings, notify: httpx.AsyncClient
) -> AsyncIterator[Database]:
    """The service's database, once the app has migrated it."""
    del notify
    db = Database(notify_settings.database_url)
    try:
        yield db
    finally:
        await db.dispose()
