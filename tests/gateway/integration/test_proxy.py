"""Forwarding over real HTTP: what reaches the upstream, what comes back, what fails how."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from gateway.domain.scopes import Role

Bearer = Callable[..., dict[str, str]]
PROBLEM = "application/problem+json"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_the_proxy_passes_method_body_query_and_status_both_ways(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    response = await api.post(
        "/api/v1/loans?dry_run=true&tag=a%20b",
        content=b'{"loan_id": "L-0001"}',
        headers=bearer(Role.ADMIN) | {"content-type": "application/json"},
    )

    assert response.status_code == 201
    echoed = response.json()
    assert echoed["method"] == "POST"
    assert echoed["path"] == "/api/v1/loans"
    assert echoed["query"] == "dry_run=true&tag=a%20b"
    assert echoed["body"] == '{"loan_id": "L-0001"}'
    assert echoed["headers"]["content-type"] == "application/json"
    assert response.headers["x-echo"] == "1"


async def test_an_upstream_problem_response_is_passed_through_unchanged(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    response = await api.get("/api/v1/loans/missing", headers=bearer(Role.AUDITOR))

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["title"] == "loan not found"


async def test_a_redirect_to_the_upstreams_own_address_is_made_relative(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    response = await api.get("/api/v1/loans/moved", headers=bearer(Role.AUDITOR))

    assert response.status_code == 307
    assert response.headers["location"] == "/api/v1/loans/L-9"


async def test_the_upstream_learns_who_calls_but_never_sees_the_clients_credentials(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    forged = {"X-PostLoan-Subject": "root", "X-PostLoan-Roles": "admin", "Cookie": "s=1"}

    response = await api.get(
        "/api/v1/loans/L-1", headers=bearer(Role.AUDITOR, subject="aud-1") | forged
    )

    received = response.json()["headers"]
    assert received["x-postloan-subject"] == "aud-1"
    assert received["x-postloan-roles"] == "auditor"
    assert "loans:read" in received["x-postloan-scopes"].split()
    assert "authorization" not in received
    assert "cookie" not in received


async def test_hop_by_hop_headers_stop_at_the_gateway(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    hop = {"Connection": "keep-alive, x-private", "X-Private": "1", "Keep-Alive": "timeout=5"}

    response = await api.get("/api/v1/loans/L-1", headers=bearer(Role.AUDITOR) | hop)

    received = response.json()["headers"]
    assert "x-private" not in received
    assert "keep-alive" not in received


async def test_the_trace_and_the_request_id_travel_to_the_upstream(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    incoming = {"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01", "x-request-id": "req-42"}

    response = await api.get("/api/v1/loans/L-1", headers=bearer(Role.AUDITOR) | incoming)

    received = response.json()["headers"]
    version, trace_id, parent_id, _ = received["traceparent"].split("-")
    assert (version, trace_id) == ("00", TRACE_ID)
    assert parent_id != "00f067aa0ba902b7"  # the gateway's own span is the parent
    assert received["x-request-id"] == "req-42"
    assert response.headers["x-request-id"] == "req-42"


async def test_an_unreachable_upstream_is_a_502_problem(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    response = await api.get("/api/v1/messages", headers=bearer(Role.AUDITOR))

    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM
    assert "notify" in response.json()["detail"]


async def test_a_slow_upstream_is_a_504_problem(api: httpx.AsyncClient, bearer: Bearer) -> None:
    response = await api.get("/api/v1/scores/slow", headers=bearer(Role.AUDITOR))

    assert response.status_code == 504
    assert response.headers["content-type"] == PROBLEM
    assert "scoring" in response.json()["detail"]


async def test_a_body_larger_than_the_limit_is_refused_before_it_is_read(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    declared = {"content-length": str(64 * 1024 * 1024), "content-type": "application/json"}

    response = await api.post("/api/v1/loans", content=b"{}", headers=bearer(Role.ADMIN) | declared)

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
