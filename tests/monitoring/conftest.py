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
def monitoring_settings(database_url: str, nats_server: NatsUnderTest) -> MonitoringSettings:
    return MonitoringSettings(
        principal_secret=SecretStr(PRINCIPAL_SECRET),
        database_url=database_url,
        nats_url=nats_server.url,
        outbox_poll_interval_s=0.2,
    )


@pytest.fixture
async def monitoring(monitoring_settings: MonitoringSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(monitoring_settings), auth=signed()) as client:
        yield client
