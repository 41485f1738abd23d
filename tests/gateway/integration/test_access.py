"""Every route is denied unless its scope is granted; bad tokens never get through."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import httpx
import jwt
import pytest

from gateway.domain.principal import Principal
from gateway.domain.routing import ROUTES, Route, Upstream, example_path
from gateway.domain.scopes import Role, Scope
from gateway.service_layer.tokens import TokenService

Bearer = Callable[..., dict[str, str]]
PROBLEM = "application/problem+json"


#: Every method of every row of the routing table that takes our credentials (signed rows
#: take a provider's signature instead: tested below).
TOKEN_ROUTES = [route for route in ROUTES if not route.signed]
SIGNED_ROUTES = [route for route in ROUTES if route.signed]
CALLS = [(method, route) for route in TOKEN_ROUTES for method in sorted(route.methods)]


def call_id(call: tuple[str, Route]) -> str:
    method, route = call
    return f"{method} {example_path(route)}"


@pytest.mark.parametrize("call", CALLS, ids=call_id)
async def test_every_route_in_the_table_refuses_a_call_without_credentials(
    api: httpx.AsyncClient, call: tuple[str, Route]
) -> None:
    method, route = call

    response = await api.request(method, example_path(route))

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("call", CALLS, ids=call_id)
async def test_every_route_in_the_table_refuses_a_token_without_its_scope(
    api: httpx.AsyncClient, tokens: TokenService, call: tuple[str, Route]
) -> None:
    method, route = call
    everything_else = Principal(
        subject="eve", roles=frozenset(), scopes=frozenset(Scope) - {route.scope}
    )
    token = tokens.issue(everything_else).access_token

    response = await api.request(
        method, example_path(route), headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    if method != "HEAD":
        assert str(route.scope) in response.json()["detail"]


@pytest.mark.parametrize("route", TOKEN_ROUTES, ids=lambda r: call_id((min(r.methods), r)))
async def test_every_route_in_the_table_reaches_its_upstream_with_its_scope(
    api: httpx.AsyncClient, tokens: TokenService, route: Route
) -> None:
    method, path = min(route.methods), example_path(route)
    only_that = Principal(subject="sam", roles=frozenset(), scopes=frozenset({route.scope}))
    token = tokens.issue(only_that).access_token

    response = await api.request(method, path, headers={"Authorization": f"Bearer {token}"})

    if route.upstream is Upstream.NOTIFY:  # the session gateway's notify is down
        assert response.status_code == 502
    else:
        assert response.status_code in (200, 201)
        assert response.json()["path"] == path


@pytest.mark.parametrize("route", SIGNED_ROUTES, ids=lambda r: call_id((min(r.methods), r)))
async def test_a_signed_route_takes_no_token_but_needs_its_signature(
    api: httpx.AsyncClient, route: Route
) -> None:
    method, path = min(route.methods), example_path(route)
    unsigned = await api.request(method, path, json={"message_id": "m", "status": "delivered"})
    assert unsigned.status_code == 401
    assert unsigned.headers["content-type"] == PROBLEM
    assert "x-postloan-signature" in unsigned.json()["detail"]
    signed = await api.request(
        method, path, content=b'{"message_id": "m"}', headers={"X-PostLoan-Signature": "sha256=00"}
    )
    assert signed.status_code == 502  # past the gateway: the session gateway's notify is down


def test_only_providers_receipts_are_signed() -> None:
    assert [(r.pattern, r.upstream) for r in SIGNED_ROUTES] == [
        ("/api/v1/providers/*/receipts", Upstream.NOTIFY)
    ]


def _unsigned(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def bad_tokens(good: TokenService) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": "mallory", "iss": good.issuer, "aud": good.audience, "iat": now}
    claims |= {"exp": now + 600, "roles": ["admin"], "scope": "loans:read"}
    other_key = "another-signing-key-that-is-long-enough-0123"
    return {
        "expired": jwt.encode(claims | {"iat": now - 900, "exp": now - 60}, good.secret),
        "signed with another key": jwt.encode(claims, other_key),
        "alg none": _unsigned(claims),
        "HS512 instead of HS256": jwt.encode(claims, good.secret, algorithm="HS512"),
        "wrong issuer": jwt.encode(claims | {"iss": "someone-else"}, good.secret),
        "wrong audience": jwt.encode(claims | {"aud": "another-api"}, good.secret),
        "no expiry": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, good.secret),
        "no subject": jwt.encode({k: v for k, v in claims.items() if k != "sub"}, good.secret),
        "not a token": "definitely.not.a-jwt",
    }


BAD_TOKEN_KINDS = list(bad_tokens(TokenService("k" * 64, "postloan", "postloan-api", 60)))


@pytest.mark.parametrize("kind", BAD_TOKEN_KINDS)
async def test_a_bad_token_is_refused_with_401(
    api: httpx.AsyncClient, tokens: TokenService, kind: str
) -> None:
    token = bad_tokens(tokens)[kind]

    response = await api.get("/api/v1/loans/L-1", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_another_authorization_scheme_is_refused(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/loans/L-1", headers={"Authorization": "Basic YTpi"})

    assert response.status_code == 401


async def test_a_path_outside_the_table_is_not_found_even_for_an_administrator(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    response = await api.get("/api/v1/internal/secrets", headers=bearer(Role.ADMIN))

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


async def test_a_path_outside_the_table_asks_for_credentials_first(
    api: httpx.AsyncClient,
) -> None:
    assert (await api.get("/api/v1/internal/secrets")).status_code == 401


async def test_a_method_the_table_does_not_list_is_not_allowed(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    response = await api.delete("/api/v1/business-date", headers=bearer(Role.ADMIN))

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    "path", ["/api/v1/loans/x%2F..%2F..%2Fusers", "/api/v1/loans/%2e%2e/x", "/api/v1/loans//x"]
)
async def test_a_path_with_dot_or_empty_segments_is_refused(
    api: httpx.AsyncClient, bearer: Bearer, path: str
) -> None:
    response = await api.get(path, headers=bearer(Role.ADMIN))

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


async def test_health_and_readiness_answer_without_credentials(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).status_code == 200
    assert (await api.get("/readyz")).status_code == 200
