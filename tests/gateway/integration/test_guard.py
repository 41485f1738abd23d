"""Beyond the routing table only health answers without credentials: docs, OpenAPI, metrics."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable

import httpx
import pytest

from gateway.domain.scopes import Role
from gateway.runtime import Gateway

Bearer = Callable[..., dict[str, str]]
PROBLEM = "application/problem+json"
DOC_PATHS = ["/docs", "/api/v1/openapi.json"]  # ReDoc and the OAuth2 redirect: not served
BASIC_CHALLENGE = 'Basic realm="postloan-docs"'


def basic(username: str, password: str) -> dict[str, str]:
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


def admin_basic(gateway: Gateway) -> dict[str, str]:
    assert gateway.settings.admin_password is not None
    return basic("admin", gateway.settings.admin_password.get_secret_value())


async def api_key(api: httpx.AsyncClient, bearer: Bearer, *roles: str) -> str:
    body = {"name": f"key-{uuid.uuid4().hex[:8]}", "roles": list(roles)}
    created = await api.post("/api/v1/api-keys", json=body, headers=bearer(Role.ADMIN))
    assert created.status_code == 201
    key: str = created.json()["key"]
    return key


@pytest.mark.parametrize("path", DOC_PATHS)
async def test_the_documentation_asks_an_anonymous_browser_for_a_password(
    api: httpx.AsyncClient, path: str
) -> None:
    response = await api.get(path)

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith(BASIC_CHALLENGE)


@pytest.mark.parametrize("path", DOC_PATHS)
async def test_the_documentation_opens_with_a_users_password(
    api: httpx.AsyncClient, gateway: Gateway, path: str
) -> None:
    response = await api.get(path, headers=admin_basic(gateway))

    assert response.status_code == 200


async def test_the_browsers_resent_password_fetches_the_merged_document(
    api: httpx.AsyncClient, gateway: Gateway
) -> None:
    response = await api.get("/api/v1/openapi.json", headers=admin_basic(gateway))

    assert "/api/v1/scores/slow" in response.json()["paths"]  # an upstream's path: merged


@pytest.mark.parametrize(
    "authorization",
    [
        basic("admin", "not-the-password"),
        basic("nobody", "whatever"),
        {"Authorization": "Basic not-base64!"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
    ],
    ids=["wrong password", "unknown user", "not base64", "no colon"],
)
async def test_wrong_or_malformed_basic_credentials_are_asked_for_again(
    api: httpx.AsyncClient, authorization: dict[str, str]
) -> None:
    response = await api.get("/docs", headers=authorization)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith(BASIC_CHALLENGE)


async def test_the_documentation_also_opens_with_a_token_or_an_api_key(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    key = await api_key(api, bearer, "ingest")

    with_token = await api.get("/api/v1/openapi.json", headers=bearer(Role.COLLECTOR))
    with_key = await api.get("/api/v1/openapi.json", headers={"X-API-Key": key})

    assert with_token.status_code == 200
    assert with_key.status_code == 200


async def test_fastapis_default_document_is_gone_and_asks_for_credentials_first(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    assert (await api.get("/openapi.json")).status_code == 401
    assert (await api.get("/openapi.json", headers=bearer(Role.AUDITOR))).status_code == 404


async def test_a_password_does_not_open_the_api_nor_make_a_browser_ask_for_one(
    api: httpx.AsyncClient, gateway: Gateway
) -> None:
    response = await api.get("/api/v1/loans/L-1", headers=admin_basic(gateway))

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_an_api_key_counts_beside_the_password_a_browser_resends(
    api: httpx.AsyncClient, gateway: Gateway, bearer: Bearer
) -> None:
    key = await api_key(api, bearer, "auditor")

    response = await api.get("/api/v1/loans/L-1", headers=admin_basic(gateway) | {"X-API-Key": key})

    assert response.status_code == 200
    assert response.json()["headers"]["x-postloan-principal-kind"] == "api_key"


async def test_metrics_refuse_an_anonymous_scraper(api: httpx.AsyncClient) -> None:
    response = await api.get("/metrics")

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_metrics_refuse_a_principal_without_metrics_read(
    api: httpx.AsyncClient, bearer: Bearer, gateway: Gateway
) -> None:
    with_token = await api.get("/metrics", headers=bearer(Role.AUDITOR, Role.COMPLIANCE))
    with_password = await api.get("/metrics", headers=admin_basic(gateway))

    assert with_token.status_code == 403
    assert "metrics:read" in with_token.json()["detail"]
    assert with_password.status_code == 401


async def test_metrics_are_scraped_with_an_admin_token(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    response = await api.get("/metrics", headers=bearer(Role.ADMIN))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "postloan_http_requests_total" in response.text


@pytest.mark.parametrize("style", ["X-API-Key", "Authorization: Bearer"])
async def test_prometheus_scrapes_with_an_admin_api_key_in_either_header(
    api: httpx.AsyncClient, bearer: Bearer, style: str
) -> None:
    key = await api_key(api, bearer, "admin")
    headers = {"X-API-Key": key} if style == "X-API-Key" else {"Authorization": f"Bearer {key}"}

    response = await api.get("/metrics", headers=headers)

    assert response.status_code == 200


async def test_an_unknown_api_key_as_a_bearer_credential_is_refused(
    api: httpx.AsyncClient,
) -> None:
    response = await api.get("/metrics", headers={"Authorization": "Bearer plk_made-up"})

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_path_that_exists_nowhere_asks_for_credentials_before_it_is_not_found(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    assert (await api.get("/nowhere")).status_code == 401
    assert (await api.get("/nowhere", headers=bearer(Role.AUDITOR))).status_code == 404
