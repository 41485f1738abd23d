"""The four services running together in this process, on real ports, over one NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

import collections_service.main
import monitoring.main
import notify.main
import scoring.main
from collections_service.settings import CollectionsSettings
from monitoring.settings import MonitoringSettings
from notify.settings import NotifySettings
from postloan_testing.plugin import NatsUnderTest, PostgresUnderTest
from postloan_testing.servers import running, serving
from principals import PRINCIPAL_SECRET, signed
from scoring.settings import ScoringSettings
from shared.settings import ServiceSettings

SERVICES: dict[str, tuple[Callable[..., FastAPI], type[ServiceSettings]]] = {
    "monitoring": (monitoring.main.create_app, MonitoringSettings),
    "scoring": (scoring.main.create_app, ScoringSettings),
    "collections": (collections_service.main.create_app, CollectionsSettings),
    "notify": (notify.main.create_app, NotifySettings),
}

#: Collections decides contacts, and notify sends them, by the wall clock (contact hours): fixed
#: at 10:00 in Shanghai, so an end-to-end contact goes whatever the time of day the suite runs.
CONTACT_CLOCK = datetime(2026, 2, 16, 2, 0, tzinfo=UTC)
APP_OPTIONS: dict[str, dict[str, Any]] = {
    "collections": {"clock": lambda: CONTACT_CLOCK},
    "notify": {"clock": lambda: CONTACT_CLOCK},  # sends are timed by the same clock
}

#: Settings a service needs in the platform beyond its database and bus.
SMS_WEBHOOK_SECRET = "e2e-sms-webhook-secret"
SETTINGS_OPTIONS: dict[str, dict[str, Any]] = {
    "notify": {"sms_webhook_secret": SecretStr(SMS_WEBHOOK_SECRET)},
}

#: Where each service shows a loan it has taken in (BRIEF: readable from every service).
LOAN_PATHS = {
    "monitoring": "/api/v1/loans/{loan_id}",
    "scoring": "/api/v1/scoring/loans/{loan_id}",
    "collections": "/api/v1/collections/loans/{loan_id}",
    "notify": "/api/v1/notify/loans/{loan_id}/recipient",
}


@dataclass
class Platform:
    urls: dict[str, str]
    clients: dict[str, httpx.AsyncClient]
    database_urls: dict[str, str]
    nats_url: str

    async def has_loan(self, service: str, loan_id: str) -> bool:
        path = LOAN_PATHS[service].format(loan_id=loan_id)
        return (await self.clients[service].get(path)).status_code == 200


@pytest.fixture
async def platform(
    postgres: PostgresUnderTest, nats_server: NatsUnderTest
) -> AsyncIterator[Platform]:
    async with AsyncExitStack() as stack:
        urls, clients, dbs = {}, {}, {}
        for name, (create_app, settings_class) in SERVICES.items():
            dbs[name] = await postgres.new_database(name)
            settings = settings_class(
                database_url=dbs[name],
                nats_url=nats_server.url,
                outbox_poll_interval_s=0.2,
                principal_secret=SecretStr(PRINCIPAL_SECRET),
                **SETTINGS_OPTIONS.get(name, {}),
            )
            app = create_app(settings, **APP_OPTIONS.get(name, {}))
            urls[name] = await stack.enter_async_context(serving(app))
            # Direct calls are signed as admin, the way the gateway signs what it forwards.
            clients[name] = await stack.enter_async_context(
                httpx.AsyncClient(base_url=urls[name], timeout=10, auth=signed())
            )
        yield Platform(urls, clients, dbs, nats_server.url)


@dataclass
class Edge:
    """The gateway in front of the platform, with an admin token."""

    client: httpx.AsyncClient
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


ADMIN_PASSWORD = "e2e-admin-password"


async def gateway_app(platform: Platform, postgres: PostgresUnderTest, state_dir: Path) -> FastAPI:
    """The gateway in front of ``platform``, with its own database and user ``admin``."""
    from gateway.main import create_app
    from gateway.settings import GatewaySettings

    settings = GatewaySettings(
        database_url=await postgres.new_database("gateway"),
        nats_url=platform.nats_url,
        jwt_secret=SecretStr("e2e-signing-key-" + "x" * 40),
        principal_secret=SecretStr(PRINCIPAL_SECRET),
        admin_password=SecretStr(ADMIN_PASSWORD),
        state_dir=state_dir,
        upstream_monitoring=platform.urls["monitoring"],
        upstream_scoring=platform.urls["scoring"],
        upstream_collections=platform.urls["collections"],
        upstream_notify=platform.urls["notify"],
    )
    return create_app(settings)


async def admin_token(client: httpx.AsyncClient) -> str:
    form = {"username": "admin", "password": ADMIN_PASSWORD}
    token: str = (await client.post("/api/v1/auth/token", data=form)).json()["access_token"]
    return token


@pytest.fixture
async def edge(
    platform: Platform, postgres: PostgresUnderTest, tmp_path: Path
) -> AsyncIterator[Edge]:
    app = await gateway_app(platform, postgres, tmp_path / "state")
    async with running(app) as client:
        yield Edge(client, await admin_token(client))


@pytest.fixture
async def gateway_url(
    platform: Platform, postgres: PostgresUnderTest, tmp_path: Path
) -> AsyncIterator[str]:
    """The gateway in front of the platform on a real port (for a browser or another process)."""
    app = await gateway_app(platform, postgres, tmp_path / "state")
    async with serving(app) as url:
        yield url
