"""Each service's OpenAPI document, and the gateway's merge of them all, is a valid OpenAPI 3.1
document whose every error is a problem (``application/problem+json``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from openapi_spec_validator import validate

from collections_service.main import create_app as collections_app
from gateway.domain.routing import Upstream
from gateway.main import create_app as gateway_app
from gateway.service_layer.openapi import merge
from monitoring.main import create_app as monitoring_app
from notify.main import create_app as notify_app
from scoring.main import create_app as scoring_app
from shared.openapi import operations
from shared.problems import PROBLEM_JSON

SERVICES: dict[Upstream, Callable[[], FastAPI]] = {
    Upstream.MONITORING: monitoring_app,
    Upstream.SCORING: scoring_app,
    Upstream.COLLECTIONS: collections_app,
    Upstream.NOTIFY: notify_app,
}


@pytest.fixture(scope="module")
def documents() -> dict[Upstream, dict[str, Any]]:
    """Built from the apps' routes alone: nothing is started or connected."""
    return {upstream: make().openapi() for upstream, make in SERVICES.items()}


@pytest.fixture(scope="module")
def merged(documents: dict[Upstream, dict[str, Any]]) -> dict[str, Any]:
    return merge(gateway_app().openapi(), dict(documents))


def error_contents(doc: dict[str, Any]) -> list[tuple[str, str, str, list[str]]]:
    return [
        (path, method, code, list(response.get("content", {})))
        for path, method, operation in operations(doc)
        for code, response in operation["responses"].items()
        if int(code) >= 400
    ]


@pytest.mark.parametrize("upstream", list(SERVICES))
def test_each_services_document_is_valid_openapi(
    documents: dict[Upstream, dict[str, Any]], upstream: Upstream
) -> None:
    validate(documents[upstream])


@pytest.mark.parametrize("upstream", list(SERVICES))
def test_each_error_a_service_documents_is_a_problem(
    documents: dict[Upstream, dict[str, Any]], upstream: Upstream
) -> None:
    errors = error_contents(documents[upstream])

    assert errors, "a service documents no error at all"
    assert [e for e in errors if e[3] != [PROBLEM_JSON]] == []


def test_the_merged_document_is_valid_openapi(merged: dict[str, Any]) -> None:
    validate(merged)


def test_the_merged_document_holds_every_service_and_one_problem_schema(
    merged: dict[str, Any],
) -> None:
    schemas = merged["components"]["schemas"]

    assert "x-postloan-unavailable-upstreams" not in merged
    assert "Problem" in schemas
    assert not [name for name in schemas if name.endswith("Problem") and name != "Problem"]
    assert "HTTPValidationError" not in schemas
    assert [e for e in error_contents(merged) if e[3] != [PROBLEM_JSON]] == []


def test_every_operation_of_the_merged_document_names_its_credentials(
    merged: dict[str, Any],
) -> None:
    schemes = set(merged["components"]["securitySchemes"])
    unguarded = []
    for path, method, operation in operations(merged):
        named = {name for requirement in operation.get("security", []) for name in requirement}
        if path != "/api/v1/auth/token" and not named:
            unguarded.append((method, path))
        assert named <= schemes
        if named:
            assert "401" in operation["responses"], (method, path)

    assert unguarded == []
