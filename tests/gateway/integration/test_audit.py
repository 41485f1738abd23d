"""The gateway records writes and reads of personal data, and lists them for auditors."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from gateway.domain.scopes import Role
from gateway.main import create_app
from gateway.settings import GatewaySettings
from postloan_testing.servers import running

Bearer = Callable[..., dict[str, str]]
PROBLEM = "application/problem+json"


def someone() -> str:
    return f"u-{uuid.uuid4().hex[:10]}"


async def entries(api: httpx.AsyncClient, bearer: Bearer, **filters: Any) -> list[dict[str, Any]]:
    response = await api.get("/api/v1/audit", params=filters, headers=bearer(Role.AUDITOR))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_forwarded_write_is_recorded_before_its_answer_with_who_what_and_outcome(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    writer = someone()

    answer = await api.post(
        "/api/v1/cases/C-77/assign", json={"assignee": "bob"},
        headers=bearer(Role.SUPERVISOR, subject=writer),
    )  # fmt: skip

    assert answer.status_code == 201
    [entry] = await entries(api, bearer, subject=writer)
    assert entry | {"recorded_at": None, "trace_id": None, "prev_hash": None, "hash": None} == {
        "sequence": entry["sequence"], "recorded_at": None, "subject": writer,
        "roles": ["supervisor"], "principal_kind": "user", "method": "POST",
        "route": "/api/v1/cases/{id}/assign", "path": "/api/v1/cases/C-77/assign",
        "resource_ids": ["C-77"], "client": "127.0.0.1", "status": 201,
        "request_id": answer.headers["x-request-id"], "trace_id": None, "prev_hash": None,
        "hash": None,
    }  # fmt: skip
    assert len(entry["hash"]) == len(entry["prev_hash"]) == 64


async def test_plain_reads_are_not_recorded_but_reads_of_personal_data_are(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    reader = someone()
    headers = bearer(Role.ADMIN, subject=reader)

    assert (await api.get("/api/v1/loans/L-1", headers=headers)).status_code == 200
    assert (await api.get("/api/v1/portfolio/summary", headers=headers)).status_code == 200
    assert (await api.get("/api/v1/cases", headers=headers)).status_code == 200
    await api.get("/api/v1/borrowers/B-0001", headers=headers)

    found = await entries(api, bearer, subject=reader)
    assert [(e["method"], e["route"], e["resource_ids"]) for e in found] == [
        ("GET", "/api/v1/borrowers/{borrower_id}", ["B-0001"]),  # the gateway's own 360° view
        ("GET", "/api/v1/cases", []),
    ]


async def test_the_work_queue_is_recorded_when_it_is_someone_elses(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    lead = someone()
    headers = bearer(Role.SUPERVISOR, subject=lead)

    await api.get("/api/v1/work-queue", headers=headers)
    await api.get("/api/v1/work-queue", params={"assignee": lead}, headers=headers)
    await api.get("/api/v1/work-queue", params={"assignee": "bob"}, headers=headers)

    [entry] = await entries(api, bearer, subject=lead)
    assert entry["path"] == "/api/v1/work-queue"
    assert entry["status"] == 200


async def test_refused_writes_are_recorded_with_the_caller_or_without_one(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    collector = someone()
    anonymous = uuid.uuid4().hex

    refused = await api.post(
        "/api/v1/eod", json={}, headers=bearer(Role.COLLECTOR, subject=collector)
    )
    unauthenticated = await api.post("/api/v1/loans", json={}, headers={"X-Request-Id": anonymous})

    assert (refused.status_code, unauthenticated.status_code) == (403, 401)
    [by_collector] = await entries(api, bearer, subject=collector)
    assert (by_collector["status"], by_collector["roles"]) == (403, ["collector"])
    [nobody] = await entries(api, bearer, request_id=anonymous)
    assert nobody | {"sequence": 0, "recorded_at": 0, "hash": 0, "prev_hash": 0, "trace_id": 0} == {
        "sequence": 0, "recorded_at": 0, "subject": None, "roles": [], "principal_kind": None,
        "method": "POST", "route": "/api/v1/loans", "path": "/api/v1/loans", "resource_ids": [],
        "client": "127.0.0.1", "status": 401, "request_id": anonymous, "trace_id": 0,
        "prev_hash": 0, "hash": 0,
    }  # fmt: skip


async def test_an_api_keys_call_is_recorded_under_the_keys_name(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    name = someone()
    created = await api.post(
        "/api/v1/api-keys", json={"name": name, "roles": ["ingest"]}, headers=bearer(Role.ADMIN)
    )
    key = created.json()["key"]

    await api.post("/api/v1/payments", json={}, headers={"X-API-Key": key})

    [entry] = await entries(api, bearer, subject=name)
    assert (entry["principal_kind"], entry["roles"], entry["route"]) == (
        "api_key", ["ingest"], "/api/v1/payments"
    )  # fmt: skip
    assert key not in str(await entries(api, bearer, route="/api/v1/api-keys"))


async def test_entries_are_filtered_and_paged_newest_first(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    writer = someone()
    headers = bearer(Role.ADMIN, subject=writer)
    for n in range(5):
        await api.put(f"/api/v1/strategies/s-{n}", json={}, headers=headers)
    await api.post("/api/v1/offers/O-1/approve", headers=headers)

    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"subject": writer, "limit": 2}
        params |= {"cursor": cursor} if cursor else {}
        page = (await api.get("/api/v1/audit", params=params, headers=bearer(Role.AUDITOR))).json()
        pages.append([e["path"] for e in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == [
        ["/api/v1/offers/O-1/approve", "/api/v1/strategies/s-4"],
        ["/api/v1/strategies/s-3", "/api/v1/strategies/s-2"],
        ["/api/v1/strategies/s-1", "/api/v1/strategies/s-0"],
    ]
    puts = await entries(api, bearer, subject=writer, method="PUT", route="/api/v1/strategies/{id}")
    assert len(puts) == 5
    assert [e["path"] for e in await entries(api, bearer, resource_id="s-3", subject=writer)] == [
        "/api/v1/strategies/s-3"
    ]
    assert len(await entries(api, bearer, subject=writer, status=200)) == 5
    # The window comes from the entries' own stamps (the recorder's clock), not from ours.
    stamps = sorted(
        datetime.fromisoformat(e["recorded_at"]) for e in await entries(api, bearer, subject=writer)
    )
    first, last = stamps[0], stamps[-1]
    later = (last + timedelta(seconds=1)).isoformat()  # ``to`` is exclusive
    window = {"from": first.isoformat(), "to": later}
    assert len(await entries(api, bearer, subject=writer, **window)) == 6
    assert await entries(api, bearer, subject=writer, **{"from": later}) == []
    assert await entries(api, bearer, subject=writer, to=first.isoformat()) == []


@pytest.mark.parametrize(
    ("params", "status"),
    [({"cursor": "not-ours!"}, 422), ({"cursor": "YWJj"}, 400), ({"method": "get"}, 422),
     ({"status": 42}, 422), ({"from": "2026-03-01T00:00:00"}, 422), ({"limit": 0}, 422)],
)  # fmt: skip
async def test_bad_filters_are_a_problem_naming_them(
    api: httpx.AsyncClient, bearer: Bearer, params: dict[str, Any], status: int
) -> None:
    response = await api.get("/api/v1/audit", params=params, headers=bearer(Role.AUDITOR))

    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.AUDITOR, 200), (Role.ADMIN, 200), (Role.COMPLIANCE, 200), (Role.COLLECTOR, 403),
     (Role.SUPERVISOR, 403), (Role.RISK_ANALYST, 403)],
)  # fmt: skip
@pytest.mark.parametrize("path", ["/api/v1/audit", "/api/v1/audit/verify"])
async def test_the_log_and_its_verification_need_audit_read(
    api: httpx.AsyncClient, bearer: Bearer, role: Role, status: int, path: str
) -> None:
    response = await api.get(path, headers=bearer(role))

    assert response.status_code == status


async def test_reading_the_log_is_itself_recorded(api: httpx.AsyncClient, bearer: Bearer) -> None:
    auditor = someone()

    await api.get(
        "/api/v1/audit", params={"subject": "x"}, headers=bearer(Role.AUDITOR, subject=auditor)
    )

    [entry] = await entries(api, bearer, subject=auditor)
    assert (entry["route"], entry["status"]) == ("/api/v1/audit", 200)


async def test_the_session_chain_verifies(api: httpx.AsyncClient, bearer: Bearer) -> None:
    await api.post("/api/v1/loans", json={}, headers=bearer(Role.ADMIN))

    verdict = (await api.get("/api/v1/audit/verify", headers=bearer(Role.AUDITOR))).json()

    assert verdict["ok"] is True
    assert verdict["broken"] is None
    assert verdict["checked"] == verdict["head"]["sequence"] >= 1


async def test_when_the_entry_cannot_be_committed_the_answer_is_withheld(
    fresh_settings: Callable[..., GatewaySettings], bearer: Bearer
) -> None:
    app = create_app(fresh_settings())
    async with running(app) as client:
        writer = app.state.gateway.audit
        await writer.close()  # as if the database had gone: nothing can be appended

        answer = await client.post(
            "/api/v1/loans", json={}, headers={"Authorization": bearer(Role.ADMIN)["Authorization"]}
        )
        plain = await client.get("/api/v1/loans/L-1", headers=bearer(Role.ADMIN))

    assert answer.status_code == 503
    assert answer.headers["content-type"] == PROBLEM
    assert "X-Request-Id" in answer.json()["detail"]
    assert answer.headers["x-request-id"]
    assert plain.status_code == 200  # calls the log does not record are not held up
