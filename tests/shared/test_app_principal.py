"""The service app factory requires the signed principal on every route of a service's routers
(no service can forget it); its own health, readiness, metrics and documents stay open, and
routers that carry their own credential are left to check it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter
from pydantic import SecretStr

from shared.app import ServiceDefinition, create_service_app
from shared.principal import PRINCIPAL_HEADER, Principal, PrincipalDep, sign
from shared.settings import ServiceSettings

SECRET = "unit-test-principal-secret-of-enough-length"
ALICE = Principal(subject="alice", roles=frozenset({"admin"}), scopes=frozenset({"*"}))

api = APIRouter(prefix="/api/v1/things")
webhooks = APIRouter(prefix="/api/v1/hooks")


@api.get("")
async def things() -> dict[str, str]:
    return {"ok": "yes"}


@api.post("/mine")
async def mine(principal: PrincipalDep) -> dict[str, str]:
    return {"actor": principal.subject}


@webhooks.post("")
async def hook() -> dict[str, str]:
    return {"hook": "reached"}


def app(*, allow_unsigned: bool = False) -> httpx.AsyncClient:
    definition = ServiceDefinition(
        name="unit", title="unit", routers=[api], self_authenticating_routers=[webhooks]
    )
    settings = ServiceSettings(
        principal_secret=SecretStr(SECRET), allow_unsigned_principal=allow_unsigned
    )
    built = create_service_app(definition, settings)  # no lifespan: nothing connects
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=built), base_url="http://unit")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with app() as c:
        yield c


def signed_for(method: str, path: str) -> dict[str, str]:
    value = sign(ALICE, secret=SECRET, method=method, path=path, now=time.time())
    return {PRINCIPAL_HEADER: value}


async def test_every_route_of_the_routers_needs_the_principal(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/things")
    assert (missing.status_code, missing.headers["content-type"]) == (
        401,
        "application/problem+json",
    )
    ok = await client.get("/api/v1/things", headers=signed_for("GET", "/api/v1/things"))
    assert ok.status_code == 200


async def test_the_actor_is_the_signed_subject(client: httpx.AsyncClient) -> None:
    headers = {**signed_for("POST", "/api/v1/things/mine"), "x-postloan-subject": "mallory"}
    assert (await client.post("/api/v1/things/mine", headers=headers)).json() == {"actor": "alice"}


async def test_self_authenticating_routers_and_the_ops_routes_need_no_principal(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.post("/api/v1/hooks")).json() == {"hook": "reached"}
    for path in ("/healthz", "/metrics", "/openapi.json", "/docs"):
        assert (await client.get(path)).status_code == 200, path


async def test_development_mode_acts_as_the_developer_without_a_header() -> None:
    async with app(allow_unsigned=True) as c:
        assert (await c.post("/api/v1/things/mine")).json() == {"actor": "developer"}


async def test_the_gateway_alone_is_built_without_the_check() -> None:
    """The gateway authenticates its callers itself; nothing signs a principal for it."""
    definition = ServiceDefinition(name="gw", title="gw", routers=[api], require_principal=False)
    built = create_service_app(definition, ServiceSettings(principal_secret=SecretStr(SECRET)))
    transport = httpx.ASGITransport(app=built)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
        assert (await c.get("/api/v1/things")).status_code == 200
