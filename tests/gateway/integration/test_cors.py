"""CORS for the configured front ends only, and the security headers on every answer."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
import pytest
from pydantic import ValidationError

from gateway.domain.principal import Principal
from gateway.domain.scopes import Role
from gateway.domain.security_headers import API_CSP, PAGE_CSP
from gateway.main import create_app
from gateway.runtime import Gateway
from gateway.settings import GatewaySettings
from postloan_testing.servers import running

SettingsFactory = Callable[..., GatewaySettings]
Bearer = Callable[..., dict[str, str]]
PROBLEM = "application/problem+json"
CONSOLE = "https://console.example.com"
LOAN = "/api/v1/loans/L-1"


def preflight(origin: str, method: str = "GET") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }


def bearer_of(gw: Gateway) -> dict[str, str]:
    token = gw.tokens.issue(Principal.with_roles("alice", frozenset({Role.RISK_ANALYST})))
    return {"Authorization": f"Bearer {token.access_token}"}


async def test_a_configured_origin_is_answered_its_preflight_and_may_read_the_answer(
    fresh_settings: SettingsFactory,
) -> None:
    settings = fresh_settings(cors_allowed_origins=f"{CONSOLE}, https://other.example.com")
    app = create_app(settings)
    async with running(app) as client:
        allowed = await client.options(LOAN, headers=preflight(CONSOLE, "POST"))
        call = await client.get(LOAN, headers={"Origin": CONSOLE} | bearer_of(app.state.gateway))

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == CONSOLE
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in allowed.headers  # bearer, not cookies
    assert call.status_code == 200
    assert call.headers["access-control-allow-origin"] == CONSOLE
    assert "retry-after" in call.headers["access-control-expose-headers"].lower()


async def test_another_origins_preflight_is_refused_with_a_problem(
    fresh_settings: SettingsFactory,
) -> None:
    app = create_app(fresh_settings(cors_allowed_origins=CONSOLE))
    async with running(app) as client:
        refused = await client.options(LOAN, headers=preflight("https://evil.example.com"))
        call = await client.get(
            LOAN, headers={"Origin": "https://evil.example.com"} | bearer_of(app.state.gateway)
        )

    assert refused.status_code == 400
    assert refused.headers["content-type"] == PROBLEM
    assert "origin" in refused.json()["detail"].lower()
    assert "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in call.headers  # the browser keeps it from the page


async def test_by_default_no_origin_is_allowed(api: httpx.AsyncClient) -> None:
    refused = await api.options(LOAN, headers=preflight(CONSOLE))

    assert refused.status_code == 400
    assert refused.headers["content-type"] == PROBLEM
    assert "access-control-allow-origin" not in refused.headers


@pytest.mark.parametrize("origins", ["*", "console.example.com", "https://a.example, *"])
def test_a_wildcard_or_an_origin_without_scheme_is_refused_at_start(
    fresh_settings: SettingsFactory, origins: str
) -> None:
    with pytest.raises(ValidationError, match="not an origin"):
        fresh_settings(cors_allowed_origins=origins)


def assert_security_headers(response: httpx.Response, policy: str) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")
    assert response.headers.get_list("content-security-policy") == [policy]


async def test_api_answers_carry_the_security_headers(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    proxied = await api.get(LOAN, headers=bearer(Role.RISK_ANALYST))
    own = await api.get("/api/v1/users", headers=bearer(Role.ADMIN))
    refused = await api.get(LOAN)

    assert (proxied.status_code, own.status_code, refused.status_code) == (200, 200, 401)
    for response in (proxied, own, refused):
        assert_security_headers(response, API_CSP)


async def test_the_documentation_page_carries_the_page_policy(
    api: httpx.AsyncClient, gateway: Gateway
) -> None:
    assert gateway.settings.admin_password is not None
    password = gateway.settings.admin_password.get_secret_value()
    basic = base64.b64encode(f"admin:{password}".encode()).decode()
    page = await api.get("/docs", headers={"Authorization": f"Basic {basic}"})

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert_security_headers(page, PAGE_CSP)
