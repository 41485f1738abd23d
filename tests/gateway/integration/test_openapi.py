"""One OpenAPI document for the whole API, and Swagger UI reading it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from gateway.domain.scopes import Role

Bearer = Callable[..., dict[str, str]]


@pytest.fixture
async def document(api: httpx.AsyncClient, bearer: Bearer) -> dict[str, Any]:
    response = await api.get("/api/v1/openapi.json", headers=bearer(Role.AUDITOR))
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc


async def test_the_document_holds_the_gateways_paths_and_the_upstreams_routed_ones(
    document: dict[str, Any],
) -> None:
    paths = document["paths"]

    assert "post" in paths["/api/v1/auth/token"]
    assert "post" in paths["/api/v1/users"]
    assert "get" in paths["/api/v1/loans/{loan_id}"]
    assert "get" in paths["/api/v1/scores/slow"]
    assert "get" in paths["/api/v1/borrowers/{borrower_id}"]
    assert "get" in paths["/api/v1/borrowers/{borrower_id}/bureau-reports"]


async def test_upstream_paths_outside_the_routing_table_are_left_out(
    document: dict[str, Any],
) -> None:
    assert "/internal/debug" not in document["paths"]


async def test_each_upstream_operation_names_its_scope_and_the_bearer_scheme(
    document: dict[str, Any],
) -> None:
    operation = document["paths"]["/api/v1/loans/{loan_id}"]["get"]

    assert operation["x-postloan-scope"] == "loans:read"
    assert {"oauth2": ["loans:read"]} in operation["security"]
    assert {"bearerAuth": []} in operation["security"]
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["oauth2"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"


async def test_an_upstream_that_is_down_is_named_in_the_document(
    document: dict[str, Any],
) -> None:
    assert document["x-postloan-unavailable-upstreams"] == ["notify"]


async def test_the_docs_page_reads_the_merged_document(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    response = await api.get("/docs", headers=bearer(Role.AUDITOR))

    assert response.status_code == 200
    assert "/api/v1/openapi.json" in response.text
