"""Rate limits and login lock-outs, as an attacker meets them: on gateways of their own, with
buckets and failures in the gateway's PostgreSQL and a clock the test moves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from devstack.embedded import free_port
from gateway.domain.principal import Principal
from gateway.domain.ratelimits import BucketRule, RouteClass
from gateway.domain.scopes import Role
from gateway.main import create_app
from gateway.runtime import Gateway
from gateway.service_layer.ratelimits import RateLimiter
from gateway.settings import GatewaySettings
from postloan_testing.servers import running
from shared.db import Database

SettingsFactory = Callable[..., GatewaySettings]
PROBLEM = "application/problem+json"
PASSWORD = "admin-password-for-tests"  # the conftest's admin
LOAN = "/api/v1/loans/L-1"


class MovingClock:
    """The wall clock of the gateways under test: it moves only when the test says so."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@asynccontextmanager
async def gateway(
    settings: GatewaySettings, clock: MovingClock
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings, clock=clock)
    async with running(app) as client:
        yield app, client


@asynccontextmanager
async def from_address(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """Another client of a running gateway, calling from ``address``."""
    transport = httpx.ASGITransport(app=app, client=(address, 40_000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def bearer(app: FastAPI, subject: str, *roles: Role) -> dict[str, str]:
    gw: Gateway = app.state.gateway
    token = gw.tokens.issue(Principal.with_roles(subject, frozenset(roles)))
    return {"Authorization": f"Bearer {token.access_token}"}


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    form = {"username": username, "password": password, "grant_type": "password"}
    return await client.post("/api/v1/auth/token", data=form)


def limited(fresh_settings: SettingsFactory, **overrides: Any) -> GatewaySettings:
    reads: dict[str, Any] = {"rate_limit_reads_capacity": 3, "rate_limit_reads_per_s": 0.5}
    return fresh_settings(**(reads | overrides))


async def test_a_principal_past_its_burst_gets_429_with_retry_after_and_a_problem(
    fresh_settings: SettingsFactory,
) -> None:
    async with gateway(limited(fresh_settings), MovingClock()) as (app, client):
        alice = bearer(app, "alice", Role.RISK_ANALYST)
        passed = [(await client.get(LOAN, headers=alice)).status_code for _ in range(3)]
        refused = await client.get(LOAN, headers=alice)

    assert passed == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "2"  # one token every 2 s
    assert refused.headers["content-type"] == PROBLEM
    body = refused.json()
    assert body["status"] == 429
    assert body["title"] == "Too many requests"
    assert "reads" in body["detail"]


async def test_calls_pass_again_once_the_bucket_has_refilled(
    fresh_settings: SettingsFactory,
) -> None:
    clock = MovingClock()
    async with gateway(limited(fresh_settings), clock) as (app, client):
        alice = bearer(app, "alice", Role.RISK_ANALYST)
        for _ in range(3):
            await client.get(LOAN, headers=alice)
        refused = await client.get(LOAN, headers=alice)
        clock.advance(2)
        again = await client.get(LOAN, headers=alice)
        spent = await client.get(LOAN, headers=alice)
        clock.advance(3600)
        burst = [(await client.get(LOAN, headers=alice)).status_code for _ in range(4)]

    assert (refused.status_code, again.status_code, spent.status_code) == (429, 200, 429)
    assert burst == [200, 200, 200, 429]  # refilled to the capacity, no further


async def test_other_principals_and_other_classes_keep_their_own_buckets(
    fresh_settings: SettingsFactory,
) -> None:
    settings = limited(fresh_settings, rate_limit_writes_capacity=1)
    async with gateway(settings, MovingClock()) as (app, client):
        alice = bearer(app, "alice", Role.COLLECTOR)
        for _ in range(3):
            await client.get(LOAN, headers=alice)
        alice_reads = await client.get(LOAN, headers=alice)
        bob_reads = await client.get(LOAN, headers=bearer(app, "bob", Role.COLLECTOR))
        outcome = {"channel": "agent_call", "outcome": "no_answer"}
        write = await client.post("/api/v1/cases/C-1/outcomes", json=outcome, headers=alice)
        second_write = await client.post("/api/v1/cases/C-1/outcomes", json=outcome, headers=alice)

    assert alice_reads.status_code == 429
    assert bob_reads.status_code == 200
    assert write.status_code == 201
    assert second_write.status_code == 429


async def test_the_gateways_own_routes_and_the_metrics_are_limited_too(
    fresh_settings: SettingsFactory,
) -> None:
    async with gateway(limited(fresh_settings), MovingClock()) as (app, client):
        admin = bearer(app, "root", Role.ADMIN)
        answers = [(await client.get("/api/v1/users", headers=admin)).status_code]
        answers.append((await client.get("/metrics", headers=admin)).status_code)
        answers.append((await client.get("/api/v1/users", headers=admin)).status_code)
        refused = await client.get("/metrics", headers=admin)

    assert answers == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM


async def test_two_gateways_on_one_database_share_the_bucket(
    fresh_settings: SettingsFactory,
) -> None:
    clock, settings = MovingClock(), limited(fresh_settings, rate_limit_reads_capacity=4)
    async with gateway(settings, clock) as (one, a), gateway(settings, clock) as (two, b):
        spent_on_a = [
            (await a.get(LOAN, headers=bearer(one, "alice", Role.RISK_ANALYST))).status_code
            for _ in range(4)
        ]
        on_b = await b.get(LOAN, headers=bearer(two, "alice", Role.RISK_ANALYST))
        clock.advance(2)
        refilled_on_b = await b.get(LOAN, headers=bearer(two, "alice", Role.RISK_ANALYST))
        then_on_a = await a.get(LOAN, headers=bearer(one, "alice", Role.RISK_ANALYST))

    assert spent_on_a == [200, 200, 200, 200]
    assert on_b.status_code == 429
    assert refilled_on_b.status_code == 200
    assert then_on_a.status_code == 429


async def test_replicas_leasing_tokens_let_through_no_more_than_the_shared_burst(
    fresh_settings: SettingsFactory,
) -> None:
    """50 calls at once, leased 5 at a time (the refill of 0.1 s): two replicas alternating."""
    settings = fresh_settings(rate_limit_reads_capacity=50, rate_limit_reads_per_s=50.0)
    clock = MovingClock()
    async with gateway(settings, clock) as (one, a), gateway(settings, clock) as (two, b):
        analyst = Role.RISK_ANALYST
        calls = [(a, bearer(one, "alice", analyst)), (b, bearer(two, "alice", analyst))]
        answers = [
            (await client.get(LOAN, headers=headers)).status_code
            for _ in range(30)
            for client, headers in calls
        ]

    assert answers.count(200) == 50
    assert answers[50:] == [429] * 10


async def test_an_unreachable_store_lets_calls_through_rather_than_failing_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    nowhere = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gateway")
    rules = {RouteClass.READS: BucketRule(capacity=1, refill_per_s=0.1)}
    limiter = RateLimiter(nowhere, rules, lease_s=0.1, clock=MovingClock())
    try:
        for _ in range(3):
            await limiter.spend("user:alice", RouteClass.READS)
    finally:
        await nowhere.dispose()

    assert "rate limits unavailable" in caplog.text


async def test_logins_from_one_address_are_limited_before_any_password_is_checked(
    fresh_settings: SettingsFactory,
) -> None:
    settings = fresh_settings(rate_limit_login_capacity=2, rate_limit_login_per_s=0.1)
    async with gateway(settings, MovingClock()) as (app, client):
        passed = [(await login(client, "admin", PASSWORD)).status_code for _ in range(2)]
        refused = await login(client, "admin", PASSWORD)
        async with from_address(app, "10.1.2.3") as elsewhere:
            other_address = await login(elsewhere, "admin", PASSWORD)

    assert passed == [200, 200]
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "10"
    assert other_address.status_code == 200


def lockouts(fresh_settings: SettingsFactory, **overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "login_user_threshold": 3,
        "login_address_threshold": 100,
        "login_lockout_base_s": 30.0,
        "login_lockout_max_s": 600.0,
    }
    return fresh_settings(**(values | overrides))


async def test_a_user_guessed_at_is_locked_out_even_for_the_right_password(
    fresh_settings: SettingsFactory,
) -> None:
    clock = MovingClock()
    async with gateway(lockouts(fresh_settings), clock) as (_, client):
        guesses = [(await login(client, "admin", f"guess-{i}")).status_code for i in range(3)]
        locked = await login(client, "admin", PASSWORD)
        clock.advance(31)
        after = await login(client, "admin", PASSWORD)

    assert guesses == [401, 401, 401]
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "30"
    assert locked.headers["content-type"] == PROBLEM
    assert "access_token" not in locked.text
    assert after.status_code == 200


async def test_each_failure_past_the_threshold_locks_twice_as_long(
    fresh_settings: SettingsFactory,
) -> None:
    clock = MovingClock()
    async with gateway(lockouts(fresh_settings), clock) as (_, client):
        waits = []
        for _ in range(3):
            await login(client, "admin", "wrong")
        for _ in range(3):
            waits.append((await login(client, "admin", PASSWORD)).headers["retry-after"])
            clock.advance(float(waits[-1]) + 1)
            assert (await login(client, "admin", "wrong")).status_code == 401

    assert waits == ["30", "60", "120"]


async def test_guesses_sent_all_at_once_are_counted_one_after_the_other(
    fresh_settings: SettingsFactory,
) -> None:
    async with gateway(lockouts(fresh_settings), MovingClock()) as (_, client):
        answers = await asyncio.gather(*(login(client, "admin", f"guess-{i}") for i in range(8)))

    assert sorted(a.status_code for a in answers) == [401] * 3 + [429] * 5


async def test_a_successful_login_resets_the_users_count(
    fresh_settings: SettingsFactory,
) -> None:
    async with gateway(lockouts(fresh_settings), MovingClock()) as (_, client):
        answers = []
        for _ in range(3):
            answers += [(await login(client, "admin", "wrong")).status_code for _ in range(2)]
            answers.append((await login(client, "admin", PASSWORD)).status_code)

    assert answers == [401, 401, 200] * 3


async def test_a_name_that_exists_nowhere_is_locked_out_alike(
    fresh_settings: SettingsFactory,
) -> None:
    async with gateway(lockouts(fresh_settings), MovingClock()) as (_, client):
        for name in ("admin", "no-such-user"):
            for _ in range(3):
                await login(client, name, "wrong")
        real = await login(client, "admin", "wrong")
        unknown = await login(client, "no-such-user", "wrong")

    assert real.status_code == unknown.status_code == 429
    assert real.headers["retry-after"] == unknown.headers["retry-after"]
    assert real.json() == unknown.json()


async def test_an_address_guessing_at_many_names_is_locked_out_for_every_name(
    fresh_settings: SettingsFactory,
) -> None:
    settings = lockouts(fresh_settings, login_user_threshold=100, login_address_threshold=4)
    async with gateway(settings, MovingClock()) as (app, client):
        for i in range(4):
            await login(client, f"user-{i}", "wrong")
        locked = await login(client, "admin", PASSWORD)
        async with from_address(app, "10.9.9.9") as elsewhere:
            other_address = await login(elsewhere, "admin", PASSWORD)

    assert locked.status_code == 429
    assert other_address.status_code == 200


async def test_the_documentations_password_is_behind_the_same_lock_out(
    fresh_settings: SettingsFactory,
) -> None:
    async with gateway(lockouts(fresh_settings), MovingClock()) as (_, client):
        guesses = [
            (await client.get("/docs", auth=("admin", f"guess-{i}"))).status_code for i in range(3)
        ]
        locked = await client.get("/docs", auth=("admin", PASSWORD))
        by_login = await login(client, "admin", PASSWORD)

    assert guesses == [401, 401, 401]
    assert locked.status_code == 429
    assert locked.headers["content-type"] == PROBLEM
    assert by_login.status_code == 429
