"""Logging in for a token; users and API keys created by an administrator."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import jwt

from gateway.domain.scopes import ROLE_SCOPES, Role
from gateway.runtime import Gateway

Bearer = Callable[..., dict[str, str]]
PROBLEM = "application/problem+json"


def admin_password(gateway: Gateway) -> str:
    assert gateway.settings.admin_password is not None
    return gateway.settings.admin_password.get_secret_value()


async def login(api: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    form = {"username": username, "password": password, "grant_type": "password"}
    return await api.post("/api/v1/auth/token", data=form)


async def test_the_admin_logs_in_with_the_configured_password_and_gets_a_bearer_token(
    api: httpx.AsyncClient, gateway: Gateway
) -> None:
    response = await login(api, "admin", admin_password(gateway))

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == gateway.settings.jwt_ttl_s
    assert response.headers["cache-control"] == "no-store"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "admin"
    assert claims["iss"] == "postloan"
    assert claims["aud"] == "postloan-api"
    assert claims["exp"] - claims["iat"] == gateway.settings.jwt_ttl_s
    assert set(claims["scope"].split()) == set(ROLE_SCOPES[Role.ADMIN])


async def test_the_issued_token_opens_the_routes_its_scopes_allow(
    api: httpx.AsyncClient, gateway: Gateway
) -> None:
    token = (await login(api, "admin", admin_password(gateway))).json()["access_token"]

    response = await api.get("/api/v1/loans/L-1", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json()["loan_id"] == "L-1"


async def test_a_wrong_password_is_refused_with_a_problem(api: httpx.AsyncClient) -> None:
    response = await login(api, "admin", "not-the-password")

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_an_unknown_user_is_refused_like_a_wrong_password(api: httpx.AsyncClient) -> None:
    response = await login(api, "nobody", "whatever-password")

    assert response.status_code == 401
    assert response.json()["detail"] == "wrong username or password"


async def test_an_admin_creates_a_user_who_then_logs_in_with_the_roles_given(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    username = f"ana-{uuid.uuid4().hex[:8]}"
    user = {"username": username, "password": "correct horse battery", "roles": ["collector"]}

    created = await api.post("/api/v1/users", json=user, headers=bearer(Role.ADMIN))
    token = (await login(api, username, "correct horse battery")).json()["access_token"]

    assert created.status_code == 201
    assert created.json() == {"username": username, "roles": ["collector"], "active": True,
                              "supervisor": None, "skills": [], "languages": [],
                              "capacity": None, "away": False, "team": []}  # fmt: skip
    claims = jwt.decode(token, options={"verify_signature": False})
    assert set(claims["scope"].split()) == set(ROLE_SCOPES[Role.COLLECTOR])


async def test_creating_a_user_that_exists_is_a_conflict(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    user = {"username": f"bo-{uuid.uuid4().hex[:8]}", "password": "x" * 12, "roles": ["auditor"]}
    await api.post("/api/v1/users", json=user, headers=bearer(Role.ADMIN))

    again = await api.post("/api/v1/users", json=user, headers=bearer(Role.ADMIN))

    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM


async def test_a_user_with_a_short_password_or_unknown_role_is_refused_naming_the_field(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    user = {"username": "carl", "password": "short", "roles": ["overlord"]}

    response = await api.post("/api/v1/users", json=user, headers=bearer(Role.ADMIN))

    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"password", "roles.0"}


async def test_only_administrators_create_users_and_api_keys(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    user = {"username": "dora", "password": "x" * 12, "roles": ["admin"]}
    key = {"name": "etl", "roles": ["admin"]}
    headers = bearer(Role.RISK_ANALYST, Role.COMPLIANCE)

    assert (await api.post("/api/v1/users", json=user, headers=headers)).status_code == 403
    assert (await api.post("/api/v1/api-keys", json=key, headers=headers)).status_code == 403
    assert (await api.post("/api/v1/users", json=user)).status_code == 401


async def test_an_api_key_authenticates_a_machine_client_with_its_roles_scopes(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    name = f"core-banking-{uuid.uuid4().hex[:8]}"
    created = await api.post(
        "/api/v1/api-keys", json={"name": name, "roles": ["ingest"]}, headers=bearer(Role.ADMIN)
    )
    key = {"X-API-Key": created.json()["key"]}

    posted = await api.post("/api/v1/payments", json={"payment_id": "P-1"}, headers=key)
    read = await api.get("/api/v1/loans/L-1", headers=key)

    assert created.status_code == 201
    assert created.json()["key"].startswith(created.json()["prefix"])
    assert posted.status_code == 201
    assert posted.json()["headers"]["x-postloan-subject"] == name
    assert posted.json()["headers"]["x-postloan-principal-kind"] == "api_key"
    assert "x-api-key" not in posted.json()["headers"]
    assert read.status_code == 403


async def test_an_unknown_api_key_is_refused(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/loans/L-1", headers={"X-API-Key": "plk_made-up"})

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


async def test_a_revoked_api_key_is_refused_at_once_and_its_revocation_is_idempotent(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    name = f"etl-{uuid.uuid4().hex[:8]}"
    created = await api.post(
        "/api/v1/api-keys", json={"name": name, "roles": ["ingest"]}, headers=bearer(Role.ADMIN)
    )
    key = {"X-API-Key": created.json()["key"]}
    pay = {"payment_id": "P-1"}
    assert (await api.post("/api/v1/payments", json=pay, headers=key)).status_code == 201  # cached

    not_admin = await api.delete(f"/api/v1/api-keys/{name}", headers=bearer(Role.COMPLIANCE))
    revoked = await api.delete(f"/api/v1/api-keys/{name}", headers=bearer(Role.ADMIN))
    again = await api.delete(f"/api/v1/api-keys/{name}", headers=bearer(Role.ADMIN))
    unknown = await api.delete("/api/v1/api-keys/nobody", headers=bearer(Role.ADMIN))
    refused = await api.post("/api/v1/payments", json=pay, headers=key)

    assert [r.status_code for r in (not_admin, revoked, again, unknown)] == [403, 204, 204, 404]
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert refused.status_code == 401
