"""Scoring under test: the service on real PostgreSQL and NATS, fed monitoring's events."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from postloan_testing.plugin import NatsUnderTest
from postloan_testing.servers import running
from principals import PRINCIPAL_SECRET, signed
from scoring.main import create_app
from scoring.settings import ScoringSettings
from scoring_events import Monitoring, Trained, trained_on_simulator
from shared.db import Database


@pytest.fixture
def scoring_settings(database_url: str, nats_server: NatsUnderTest) -> ScoringSettings:
    return ScoringSettings(
        principal_secret=SecretStr(PRINCIPAL_SECRET),
        database_url=database_url,
        nats_url=nats_server.url,
        outbox_poll_interval_s=0.2,
        rescore_poll_interval_s=0.2,
        rescore_chunk_size=100,
    )


@pytest.fixture
async def scoring(scoring_settings: ScoringSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(scoring_settings), auth=signed()) as client:
        yield client


@pytest.fixture
async def scoring_db(scoring_settings: ScoringSettings) -> AsyncIterator[Database]:
    db = Database(scoring_settings.database_url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
def monitoring(nats_server: NatsUnderTest) -> Monitoring:
    return Monitoring(nats_server.url)


# --- models trained on the simulator's portfolio (once per session: a few seconds) ----------


@pytest.fixture(scope="session")
def trained() -> Trained:
    return trained_on_simulator()
