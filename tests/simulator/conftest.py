from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from monitoring.main import create_app
from monitoring.settings import MonitoringSettings
from postloan_testing.plugin import NatsUnderTest
from postloan_testing.servers import running
from principals import PRINCIPAL_SECRET, signed


@pytest.fixture
async def monitoring(
    database_url: str, nats_server: NatsUnderTest
) -> AsyncIterator[httpx.AsyncClient]:
    """Monitoring over HTTP (in process): the part of the public API the simulator drives."""
    settings = MonitoringSettings(
        principal_secret=SecretStr(PRINCIPAL_SECRET),
        database_url=database_url,
        nats_url=nats_server.url,
        outbox_poll_interval_s=0.2,
    )
    async with running(create_app(settings), auth=signed()) as client:
        yield client
