"""A gateway in this process, in front of a real upstream served by uvicorn on a free port.

The gateway, its database, NATS and the upstream are started once per session (a gateway
start migrates a database and connects to NATS); tests that need a fresh gateway build one.
The session gateway's notify is down; ``full_api`` is a second gateway whose every upstream
is up.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from devstack.embedded import free_port
from gateway.domain.principal import Principal, PrincipalKind
from gateway.domain.scopes import Role
from gateway.main import create_app
from gateway.runtime import Gateway
from gateway.service_layer.tokens import TokenService
from gateway.settings import GatewaySettings
from postloan_testing.plugin import NatsUnderTest, PostgresUnderTest
from postloan_testing.servers import running, serving
from principals import PRINCIPAL_SECRET
from shared.principal import PRINCIPAL_HEADER, verify

JWT_SECRET = "test-signing-key-long-enough-even-for-hs512-" + "0123456789" * 3
ADMIN_PASSWORD = "admin-password-for-tests"
UPSTREAM_TIMEOUT_S = 0.5

#: Borrowers the upstream knows: B-0001 everywhere, B-0002 with no bureau history (404).
BORROWERS: dict[str, dict[str, Any]] = {
    "B-0001": {
        "borrower_id": "B-0001",
        "name": "张三",
        "phone": "+8613800000000",
        "email": "zhang@example.com",
        "national_id": "110101199001011234",
        "locale": "zh-CN",
        "time_zone": "Asia/Shanghai",
        "channels": ["sms", "email"],
        "address": {
            "lines": ["北京市朝阳区", "建国路88号"],
            "postal_code": "100022",
            "country": "CN",
        },
        "contacts": [
            {
                "contact_id": "C-1",
                "recipient": "guarantor",
                "name": "王五",
                "phone": "+8613700001111",
                "email": None,
                "address": {"lines": ["上海市浦东新区"], "postal_code": None, "country": "CN"},
            }
        ],
    },
    "B-0002": {
        "borrower_id": "B-0002",
        "name": "Li Si",
        "phone": "+8613911112222",
        "email": None,
        "locale": "en",
        "time_zone": "Asia/Shanghai",
        "channels": ["sms"],
    },
}


#: Whom the upstream's cases are assigned to (the default subject of ``bearer``).
CASE_HOLDER = "alice"


def _not_found(what: str) -> Response:
    body = json.dumps({"type": "about:blank", "title": f"{what} not found", "status": 404})
    return Response(body, status_code=404, media_type="application/problem+json")


def _add_borrower_routes(app: FastAPI) -> None:
    """What monitoring, notify and collections answer about borrowers, for the 360° view."""

    @app.get("/api/v1/loans")
    async def list_loans(request: Request, borrower_id: str | None = None) -> dict[str, Any]:
        seen = {"seen_query": request.url.query, "seen_headers": dict(request.headers.items())}
        loan = {"loan_id": f"L-{borrower_id}", "borrower_id": borrower_id, "dpd": 3} | seen
        items = [loan] if borrower_id in BORROWERS else []
        return await _echo(request) | {"items": items, "next_cursor": None}

    @app.get("/api/v1/borrowers/{borrower_id}/bureau-reports", response_model=None)
    async def bureau_reports(borrower_id: str, request: Request) -> dict[str, Any] | Response:
        if borrower_id == "B-0002":
            return _not_found("borrower")
        report = {"borrower_id": borrower_id, "score": 640, "total_debt": "1000.00"}
        items = [report] if borrower_id == "B-0001" else []
        return await _echo(request) | {"items": items, "next_cursor": None}

    @app.get("/api/v1/notify/recipients/{borrower_id}", response_model=None)
    async def recipient(borrower_id: str) -> dict[str, Any] | Response:
        return BORROWERS.get(borrower_id) or _not_found("recipient")

    @app.get("/api/v1/cases")
    async def cases(request: Request, borrower_id: str | None = None) -> dict[str, Any]:
        """Collections' rule, in small: alice's cases are those of the known borrowers; the
        principal is checked as collections checks it."""
        if borrower_id is None:
            return await _echo(request)
        caller = verify(
            request.headers.get(PRINCIPAL_HEADER, ""), secret=PRINCIPAL_SECRET,
            method=request.method, path=request.url.path, now=time.time(),
        )  # fmt: skip
        mine = caller.sees_every_case or caller.subject == CASE_HOLDER
        items = [{"case_id": f"C-{borrower_id}"}] if mine and borrower_id in BORROWERS else []
        return {"items": items, "next_cursor": None}

    @app.get("/api/v1/collections/loans/as-csv")
    async def as_csv() -> Response:
        return Response("loan_id,name\nL-1,张三\n", media_type="text/csv")

    @app.get("/api/v1/collections/loans/{loan_id}")
    async def loan_reference(loan_id: str, request: Request) -> dict[str, Any]:
        return {
            "loan_id": loan_id,
            "product": "consumer-12m",
            "borrower": BORROWERS["B-0001"],
            "accept_encoding": request.headers.get("accept-encoding"),
        }


def echo_app() -> FastAPI:
    """The upstream: answers with what it received, plus a few misbehaving routes."""
    app = FastAPI(title="echo")
    _add_borrower_routes(app)

    @app.get("/api/v1/loans/missing")
    async def missing() -> Response:
        body = b'{"type":"about:blank","title":"loan not found","status":404}'
        return Response(body, status_code=404, media_type="application/problem+json")

    @app.get("/api/v1/loans/moved")
    async def moved(request: Request) -> RedirectResponse:
        return RedirectResponse(str(request.url_for("get_loan", loan_id="L-9")))

    @app.get("/api/v1/scores/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(UPSTREAM_TIMEOUT_S * 2)
        return {"too": "late"}

    @app.get("/api/v1/loans/{loan_id}")
    async def get_loan(loan_id: str, request: Request) -> dict[str, Any]:
        return await _echo(request) | {"loan_id": loan_id}

    @app.get("/internal/debug")
    async def internal() -> dict[str, str]:
        return {"internal": "yes"}

    @app.api_route(
        "/api/v1/{rest:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    async def echo(request: Request) -> JSONResponse:
        status = 201 if request.method == "POST" else 200
        return JSONResponse(await _echo(request), status_code=status, headers={"x-echo": "1"})

    return app


async def _echo(request: Request) -> dict[str, Any]:
    return {
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        "headers": dict(request.headers.items()),
        "body": (await request.body()).decode(),
    }


@pytest.fixture(scope="session")
async def upstream_url() -> AsyncIterator[str]:
    async with serving(echo_app()) as url:
        yield url


def make_settings(
    *, database_url: str, nats_url: str, state_dir: Path, upstream: str, **overrides: Any
) -> GatewaySettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "nats_url": nats_url,
        "environment": "test",
        "state_dir": state_dir,
        "jwt_secret": JWT_SECRET,
        "principal_secret": PRINCIPAL_SECRET,
        "admin_password": ADMIN_PASSWORD,
        "upstream_monitoring": upstream,
        "upstream_scoring": upstream,
        "upstream_collections": upstream,
        "upstream_notify": f"http://127.0.0.1:{free_port()}",  # nothing listens there
        "upstream_timeout_s": UPSTREAM_TIMEOUT_S,
        "log_json": False,
        "log_level": "WARNING",
    }
    return GatewaySettings.model_validate(values | overrides)


Bearer = Callable[..., dict[str, str]]


@pytest.fixture(scope="session")
async def gateway_app(
    postgres: PostgresUnderTest,
    session_nats: NatsUnderTest,
    upstream_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = make_settings(
        database_url=await postgres.new_database("gateway"),
        nats_url=session_nats.url,
        state_dir=tmp_path_factory.mktemp("gateway-state"),
        upstream=upstream_url,
    )
    app = create_app(settings)
    async with running(app) as client:
        yield app, client


@pytest.fixture(scope="session")
async def full_gateway_app(
    postgres: PostgresUnderTest,
    session_nats: NatsUnderTest,
    upstream_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = make_settings(
        database_url=await postgres.new_database("gateway"),
        nats_url=session_nats.url,
        state_dir=tmp_path_factory.mktemp("gateway-state"),
        upstream=upstream_url,
        upstream_notify=upstream_url,
    )
    app = create_app(settings)
    async with running(app) as client:
        yield app, client


SettingsOf = Callable[..., Awaitable[GatewaySettings]]


@pytest.fixture(scope="session")
def settings_of(
    postgres: PostgresUnderTest,
    session_nats: NatsUnderTest,
    upstream_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> SettingsOf:
    """``await settings_of(**overrides)``: settings for a gateway of its own, on a new database,
    for a module that needs a gateway configured otherwise than the session's."""

    async def settings(**overrides: Any) -> GatewaySettings:
        return make_settings(
            database_url=await postgres.new_database("gateway"),
            nats_url=session_nats.url,
            state_dir=tmp_path_factory.mktemp("gateway-state"),
            upstream=upstream_url,
            **overrides,
        )

    return settings


@pytest.fixture
def full_api(full_gateway_app: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    """A client of a gateway whose every upstream, notify included, is the echo app."""
    return full_gateway_app[1]


@pytest.fixture
def api(gateway_app: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    """A client of the session's gateway (in process, through its ASGI interface)."""
    return gateway_app[1]


@pytest.fixture
def gateway(gateway_app: tuple[FastAPI, httpx.AsyncClient]) -> Gateway:
    """The session gateway's runtime: its settings, token service, proxy."""
    gw: Gateway = gateway_app[0].state.gateway
    return gw


@pytest.fixture
def tokens(gateway: Gateway) -> TokenService:
    return gateway.tokens


@pytest.fixture
def bearer(tokens: TokenService) -> Bearer:
    """``bearer(Role.AUDITOR, subject="alice")``: headers with a token for those roles."""

    def headers(*roles: Role, subject: str = "alice") -> dict[str, str]:
        principal = Principal.with_roles(subject, frozenset(roles), PrincipalKind.USER)
        return {"Authorization": f"Bearer {tokens.issue(principal).access_token}"}

    return headers


@pytest.fixture
def fresh_settings(
    database_url: str, nats_server: NatsUnderTest, upstream_url: str, tmp_path: Path
) -> Callable[..., GatewaySettings]:
    """Settings for a gateway of the test's own, on an empty database."""

    def settings(**overrides: Any) -> GatewaySettings:
        return make_settings(
            database_url=database_url,
            nats_url=nats_server.url,
            state_dir=tmp_path / "state",
            upstream=upstream_url,
            **overrides,
        )

    return settings
