"""``GET /api/v1/borrowers/{id}``: the 360° view from monitoring and notify, in one document."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from gateway.domain.scopes import Role

Bearer = Callable[..., dict[str, str]]
PROBLEM = "application/problem+json"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_the_view_joins_contact_loans_and_bureau_history(
    full_api: httpx.AsyncClient, bearer: Bearer
) -> None:
    response = await full_api.get("/api/v1/borrowers/B-0001", headers=bearer(Role.COLLECTOR))

    assert response.status_code == 200
    view = response.json()
    assert view["borrower_id"] == "B-0001"
    assert view["contact"]["name"] == "张三"
    assert view["contact"]["phone"] == "+8613800000000"
    assert [loan["loan_id"] for loan in view["loans"]] == ["L-B-0001"]
    assert [r["score"] for r in view["bureau_reports"]] == [640]
    assert view["sources"] == {
        "contact": {"service": "notify", "status": "ok", "detail": None},
        "loans": {"service": "monitoring", "status": "ok", "detail": None},
        "bureau_reports": {"service": "monitoring", "status": "ok", "detail": None},
    }


async def test_the_loans_are_asked_for_by_borrower_as_the_caller_in_the_callers_trace(
    full_api: httpx.AsyncClient, bearer: Bearer
) -> None:
    traceparent = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
    incoming = {"x-request-id": "req-360", "traceparent": traceparent}

    response = await full_api.get(
        "/api/v1/borrowers/B-0001", headers=bearer(Role.AUDITOR, subject="aud-7") | incoming
    )

    loan = response.json()["loans"][0]
    assert loan["seen_query"] == "borrower_id=B-0001&limit=500"
    seen = loan["seen_headers"]
    assert seen["x-postloan-subject"] == "aud-7"
    assert seen["x-request-id"] == "req-360"
    assert seen["traceparent"].split("-")[1] == TRACE_ID
    assert "authorization" not in seen


async def test_an_auditor_sees_the_view_with_personal_data_masked(
    full_api: httpx.AsyncClient, bearer: Bearer
) -> None:
    response = await full_api.get("/api/v1/borrowers/B-0001", headers=bearer(Role.AUDITOR))

    contact = response.json()["contact"]
    assert contact["name"] == "张*"
    assert contact["phone"] == "+86138****0000"
    assert contact["email"] == "z***@example.com"
    assert contact["national_id"] == "110***********1234"
    assert contact["address"] == {
        "lines": ["北***", "建***"],
        "postal_code": "1***",
        "country": "CN",
    }
    guarantor = contact["contacts"][0]
    assert (guarantor["name"], guarantor["phone"]) == ("王*", "+86137****1111")
    assert guarantor["address"]["lines"] == ["上***"]
    assert response.json()["bureau_reports"][0]["total_debt"] == "1000.00"


async def test_a_borrower_without_bureau_history_still_has_a_view(
    full_api: httpx.AsyncClient, bearer: Bearer
) -> None:
    response = await full_api.get("/api/v1/borrowers/B-0002", headers=bearer(Role.COLLECTOR))

    assert response.status_code == 200
    assert response.json()["bureau_reports"] == []
    assert response.json()["sources"]["bureau_reports"]["status"] == "not_found"
    assert response.json()["contact"]["name"] == "Li Si"


async def test_a_service_that_is_down_leaves_its_part_empty_and_is_named(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    response = await api.get("/api/v1/borrowers/B-0001", headers=bearer(Role.COLLECTOR))

    assert response.status_code == 200
    view = response.json()
    assert view["contact"] is None
    assert view["sources"]["contact"]["status"] == "failed"
    assert "notify" in view["sources"]["contact"]["detail"]
    assert [loan["loan_id"] for loan in view["loans"]] == ["L-B-0001"]
    assert view["sources"]["loans"]["status"] == "ok"


async def test_a_borrower_no_service_knows_is_not_found(
    full_api: httpx.AsyncClient, bearer: Bearer
) -> None:
    response = await full_api.get("/api/v1/borrowers/B-9999", headers=bearer(Role.COLLECTOR))

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


async def test_the_view_needs_borrowers_read(api: httpx.AsyncClient, bearer: Bearer) -> None:
    anonymous = await api.get("/api/v1/borrowers/B-0001")
    ingest = await api.get("/api/v1/borrowers/B-0001", headers=bearer(Role.INGEST))

    assert anonymous.status_code == 401
    assert ingest.status_code == 403
    assert "borrowers:read" in ingest.json()["detail"]


@pytest.mark.parametrize("borrower_id", ["B%201", "-B1", "B" * 65, "B%3F1"])
async def test_a_malformed_borrower_id_is_refused_naming_the_field(
    api: httpx.AsyncClient, bearer: Bearer, borrower_id: str
) -> None:
    response = await api.get(f"/api/v1/borrowers/{borrower_id}", headers=bearer(Role.ADMIN))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "borrower_id"


async def test_a_collector_sees_only_the_borrowers_of_their_cases(
    full_api: httpx.AsyncClient, bearer: Bearer
) -> None:
    theirs = await full_api.get("/api/v1/borrowers/B-0001", headers=bearer(Role.COLLECTOR))
    others = await full_api.get(
        "/api/v1/borrowers/B-0001", headers=bearer(Role.COLLECTOR, subject="carol")
    )
    unknown = await full_api.get(
        "/api/v1/borrowers/B-9999", headers=bearer(Role.COLLECTOR, subject="carol")
    )

    assert theirs.status_code == 200
    assert others.status_code == 404
    assert others.json()["detail"] == unknown.json()["detail"].replace("B-9999", "B-0001")
