"""Merging OpenAPI documents: routed paths only, schemas kept apart when they clash."""

from __future__ import annotations

from typing import Any

from gateway.domain.routing import Upstream
from gateway.service_layer.openapi import merge

GATEWAY: dict[str, Any] = {"openapi": "3.1.0", "info": {"title": "g", "version": "1"}, "paths": {}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def service_doc(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.1.0", "paths": paths, "components": {"schemas": schemas}}


def get_returning(name: str) -> dict[str, Any]:
    body = {"content": {"application/json": {"schema": ref(name)}}}
    return {"get": {"responses": {"200": body}}}


def test_only_paths_the_table_routes_to_that_upstream_are_kept() -> None:
    monitoring = service_doc(
        {"/api/v1/loans/{loan_id}": get_returning("Loan"), "/api/v1/cases": get_returning("Loan")},
        {"Loan": {"type": "object"}},
    )

    merged = merge(GATEWAY, {Upstream.MONITORING: monitoring})

    assert list(merged["paths"]) == ["/api/v1/loans/{loan_id}"]


def test_a_schema_name_two_services_use_differently_is_prefixed_and_refs_follow() -> None:
    monitoring = service_doc(
        {"/api/v1/loans/{loan_id}": get_returning("Loan")},
        {"Loan": {"type": "object", "title": "ledger"}},
    )
    scoring = service_doc(
        {"/api/v1/scores/{loan_id}": get_returning("Score")},
        {"Loan": {"type": "object", "title": "terms"}, "Score": {"items": ref("Loan")}},
    )

    merged = merge(GATEWAY, {Upstream.MONITORING: monitoring, Upstream.SCORING: scoring})

    schemas = merged["components"]["schemas"]
    assert schemas["Loan"]["title"] == "ledger"
    assert schemas["ScoringLoan"]["title"] == "terms"
    assert schemas["Score"]["items"] == ref("ScoringLoan")
    response = merged["paths"]["/api/v1/scores/{loan_id}"]["get"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"] == ref("Score")


def test_identical_schemas_are_shared_under_their_own_name() -> None:
    common = {"HTTPValidationError": {"type": "object"}}
    monitoring = service_doc({}, dict(common))
    scoring = service_doc({}, dict(common))

    merged = merge(GATEWAY, {Upstream.MONITORING: monitoring, Upstream.SCORING: scoring})

    assert list(merged["components"]["schemas"]) == ["HTTPValidationError"]


def test_an_unavailable_upstream_is_listed_and_the_rest_still_merges() -> None:
    merged = merge(GATEWAY, {Upstream.MONITORING: None})

    assert merged["x-postloan-unavailable-upstreams"] == ["monitoring"]
    assert merged["info"]["title"] == "PostLoan API"


def statuses(merged: dict[str, Any], path: str, method: str = "get") -> set[str]:
    return set(merged["paths"][path][method]["responses"])


def test_a_routed_operation_documents_what_the_gateway_answers_before_the_service() -> None:
    monitoring = service_doc(
        {
            "/api/v1/loans/{loan_id}": get_returning("Loan"),
            "/api/v1/payments": {"post": {"requestBody": {}, "responses": {"201": {}}}},
        },
        {"Loan": {"type": "object"}},
    )

    merged = merge(GATEWAY, {Upstream.MONITORING: monitoring})

    assert statuses(merged, "/api/v1/loans/{loan_id}") == {
        "200", "400", "401", "403", "429", "502", "504"
    }  # fmt: skip
    assert statuses(merged, "/api/v1/payments", "post") == {
        "201", "401", "403", "413", "429", "502", "504"
    }  # fmt: skip
    refused = merged["paths"]["/api/v1/payments"]["post"]["responses"]["429"]
    assert refused["content"] == {"application/problem+json": {"schema": ref("Problem")}}


def test_a_signed_route_answers_401_without_a_signature_but_never_403() -> None:
    notify = service_doc(
        {"/api/v1/providers/{channel}/receipts": {"post": {"responses": {"200": {}}}}}, {}
    )

    merged = merge(GATEWAY, {Upstream.NOTIFY: notify})

    operation = merged["paths"]["/api/v1/providers/{channel}/receipts"]["post"]
    assert operation["security"] == [{"signature": []}]
    assert "401" in operation["responses"]
    assert "403" not in operation["responses"]


def test_the_gateways_own_routes_take_its_credentials_and_the_services_schemes_are_dropped() -> (
    None
):
    gateway = {
        **GATEWAY,
        "paths": {"/api/v1/users": {"get": {"security": [{"oauth2": []}], "responses": {}}}},
        "components": {"schemas": {"Problem": {"type": "object"}}},
    }
    scoring = service_doc({}, {"Problem": {"type": "object"}})
    scoring["components"]["securitySchemes"] = {"principal": {"type": "apiKey"}}

    merged = merge(gateway, {Upstream.SCORING: scoring})

    operation = merged["paths"]["/api/v1/users"]["get"]
    assert operation["security"] == [{"bearerAuth": []}, {"oauth2": []}, {"apiKey": []}]
    assert {"401", "403", "429"} <= set(operation["responses"])
    assert "principal" not in merged["components"]["securitySchemes"]
    assert list(merged["components"]["schemas"]) == ["Problem"]
