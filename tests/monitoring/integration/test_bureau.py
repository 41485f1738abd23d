"""Bureau data: reports posted or published, kept as history, refreshed, and watched."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import nats
import pytest

from factories import make_registration
from monitoring.adapters.bureau_adapter import SimulatedBureau
from monitoring.main import create_app
from monitoring.settings import MonitoringSettings
from postloan_testing.plugin import NatsUnderTest, eventually
from postloan_testing.servers import running
from principals import signed
from shared.events import BureauReported, make_event


def make_report(
    *, borrower_id: str = "B-1", reported_at: str = "2026-01-20T10:00:00+08:00", **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "borrower_id": borrower_id,
        "reported_at": reported_at,
        "score": 700,
        "inquiries_30d": 1,
        "open_loans": 2,
        "total_debt": "25000.00",
        "delinquent_accounts": 0,
    }
    return body | overrides


async def register(client: httpx.AsyncClient, loan_id: str, borrower_id: str) -> None:
    body = make_registration(loan_id=loan_id, borrower_id=borrower_id)
    response = await client.post("/api/v1/loans", json=body)
    assert response.status_code == 201, response.text


async def history(client: httpx.AsyncClient, borrower_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/borrowers/{borrower_id}/bureau-reports")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def alerts(client: httpx.AsyncClient, rule: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (
        await client.get("/api/v1/alerts", params={"rule": rule})
    ).json()["items"]
    return items


async def test_a_report_is_stored_once_and_the_same_body_again_returns_it(
    monitoring: httpx.AsyncClient,
) -> None:
    await register(monitoring, "L-1", "B-1")
    created = await monitoring.post("/api/v1/bureau-reports", json=make_report())
    again = await monitoring.post("/api/v1/bureau-reports", json=make_report())
    assert (created.status_code, again.status_code) == (201, 200)
    assert again.json() == created.json()
    body = created.json()
    assert body["reported_on"] == "2026-01-20"
    assert (body["score"], body["total_debt"]) == (700, "25000.00")
    assert len(await history(monitoring, "B-1")) == 1


async def test_a_different_report_at_the_same_time_is_a_409_problem_and_changes_nothing(
    monitoring: httpx.AsyncClient,
) -> None:
    await register(monitoring, "L-1", "B-1")
    await monitoring.post("/api/v1/bureau-reports", json=make_report())
    # the same instant written in another time zone is the same report
    clash = await monitoring.post(
        "/api/v1/bureau-reports",
        json=make_report(reported_at="2026-01-20T02:00:00Z", score=500),
    )
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    assert [r["score"] for r in await history(monitoring, "B-1")] == [700]


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"borrower_id": "B-404"}, "borrower_id"),
        ({"score": -1}, "score"),
        ({"score": 1001}, "score"),
        ({"inquiries_30d": -2}, "inquiries_30d"),
        ({"total_debt": "10.001"}, "total_debt"),
        ({"reported_at": "2026-01-20T10:00:00"}, "reported_at"),
        ({"reported_at": "yesterday"}, "reported_at"),
        ({"borrower_id": "B 1"}, "borrower_id"),
        ({"extra": 1}, "extra"),
    ],
)
async def test_a_bad_report_is_a_422_problem_naming_the_field_and_stores_nothing(
    monitoring: httpx.AsyncClient, override: dict[str, Any], field: str
) -> None:
    await register(monitoring, "L-1", "B-1")
    response = await monitoring.post("/api/v1/bureau-reports", json=make_report() | override)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await history(monitoring, "B-1") == []


async def test_a_borrowers_history_is_listed_newest_first_page_by_page(
    monitoring: httpx.AsyncClient,
) -> None:
    await register(monitoring, "L-1", "B-1")
    for month in range(1, 6):
        at = f"2026-0{month}-20T10:00:00+08:00"
        response = await monitoring.post(
            "/api/v1/bureau-reports", json=make_report(reported_at=at, score=700 + month)
        )
        assert response.status_code == 201
    path = "/api/v1/borrowers/B-1/bureau-reports"
    first = (await monitoring.get(path, params={"limit": 3})).json()
    second = (
        await monitoring.get(path, params={"limit": 3, "cursor": first["next_cursor"]})
    ).json()
    assert [r["score"] for r in first["items"] + second["items"]] == [705, 704, 703, 702, 701]
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/borrowers/B-404/bureau-reports", 404),
        ("/api/v1/borrowers/B-1/bureau-reports?cursor=zz", 422),
        ("/api/v1/borrowers/B-1/bureau-reports?cursor=MjAyNi0wMS0wMQ==", 422),  # naive time
        ("/api/v1/borrowers/B-1/bureau-reports?limit=0", 422),
    ],
)
async def test_a_bad_history_query_is_a_4xx_problem(
    monitoring: httpx.AsyncClient, path: str, status: int
) -> None:
    await register(monitoring, "L-1", "B-1")
    response = await monitoring.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_report_is_announced_once_on_the_bus(
    monitoring: httpx.AsyncClient, nats_server: NatsUnderTest
) -> None:
    await register(monitoring, "L-1", "B-1")
    nc = await nats.connect(nats_server.url)
    try:
        sub = await nc.subscribe("postloan.monitoring.bureau.recorded")
        await monitoring.post("/api/v1/bureau-reports", json=make_report())
        await monitoring.post("/api/v1/bureau-reports", json=make_report())
        msg = await sub.next_msg(timeout=5)
        assert b'"borrower_id":"B-1"' in msg.data
        with pytest.raises(nats.errors.TimeoutError):
            await sub.next_msg(timeout=0.5)
    finally:
        await nc.close()


async def test_a_report_published_on_the_ingest_stream_is_stored(
    monitoring: httpx.AsyncClient, nats_server: NatsUnderTest
) -> None:
    await register(monitoring, "L-1", "B-1")
    report = BureauReported.model_validate(make_report())
    event = make_event(report, source="tests", subject="B-1", domain="ingest")
    nc = await nats.connect(nats_server.url)
    try:
        await nc.jetstream().publish(
            event.spec.subject,
            event.model_dump_json().encode(),
            headers={"Nats-Msg-Id": str(event.id)},
        )
    finally:
        await nc.close()

    async def stored() -> bool:
        return len(await history(monitoring, "B-1")) == 1

    await eventually(stored)


# --- the bureau rules ----------------------------------------------------------------------


async def test_a_score_drop_raises_an_alert_on_every_loan_of_the_borrower(
    monitoring: httpx.AsyncClient,
) -> None:
    await register(monitoring, "L-1", "B-1")
    await register(monitoring, "L-2", "B-1")
    await register(monitoring, "L-3", "B-3")  # control: a small drop
    for borrower, score in (("B-1", 640), ("B-3", 660)):
        await monitoring.post("/api/v1/bureau-reports", json=make_report(borrower_id=borrower))
        later = make_report(borrower_id=borrower, reported_at="2026-02-20T10:00:00+08:00")
        await monitoring.post("/api/v1/bureau-reports", json=later | {"score": score})
    raised = await alerts(monitoring, "bureau_score_drop")
    assert sorted(a["loan_id"] for a in raised) == ["L-1", "L-2"]
    assert raised[0]["raised_on"] == "2026-02-20"
    assert raised[0]["evidence"]["drop"] == 60
    assert raised[0]["evidence"]["previous_score"] == 700


async def test_delinquency_and_many_inquiries_elsewhere_raise_their_alerts(
    monitoring: httpx.AsyncClient,
) -> None:
    await register(monitoring, "L-1", "B-1")
    await register(monitoring, "L-2", "B-2")
    await monitoring.post("/api/v1/bureau-reports", json=make_report(delinquent_accounts=2))
    await monitoring.post(
        "/api/v1/bureau-reports", json=make_report(borrower_id="B-2", inquiries_30d=9)
    )
    assert [a["loan_id"] for a in await alerts(monitoring, "delinquency_elsewhere")] == ["L-1"]
    assert [a["loan_id"] for a in await alerts(monitoring, "multi_lending")] == ["L-2"]


async def test_new_loans_elsewhere_since_the_previous_report_raise_multi_lending(
    monitoring: httpx.AsyncClient,
) -> None:
    await register(monitoring, "L-1", "B-1")
    await monitoring.post("/api/v1/bureau-reports", json=make_report(open_loans=1))
    later = make_report(reported_at="2026-02-20T10:00:00+08:00", open_loans=3)
    await monitoring.post("/api/v1/bureau-reports", json=later)
    [alert] = await alerts(monitoring, "multi_lending")
    assert alert["evidence"]["reasons"] == ["new_open_loans"]


async def test_a_quiet_report_raises_nothing(monitoring: httpx.AsyncClient) -> None:
    await register(monitoring, "L-1", "B-1")
    await monitoring.post("/api/v1/bureau-reports", json=make_report())
    await monitoring.post(
        "/api/v1/bureau-reports", json=make_report(reported_at="2026-02-20T10:00:00+08:00")
    )
    assert (await monitoring.get("/api/v1/alerts")).json()["items"] == []


# --- refresh -------------------------------------------------------------------------------


async def test_a_refresh_asks_the_bureau_for_borrowers_due_and_stores_its_answers(
    monitoring: httpx.AsyncClient, monitoring_settings: MonitoringSettings
) -> None:
    await register(monitoring, "L-1", "B-1")
    await register(monitoring, "L-2", "B-2")
    await monitoring.post(  # B-2 has a report of today: not due
        "/api/v1/bureau-reports",
        json=make_report(borrower_id="B-2", reported_at="2026-01-15T09:00:00+08:00"),
    )
    response = await monitoring.post("/api/v1/bureau-refresh")
    assert response.status_code == 200, response.text
    assert response.json() == {"as_of": "2026-01-15", "requested": 1, "stored": 1}
    [stored] = await history(monitoring, "B-1")
    expected = SimulatedBureau(seed=monitoring_settings.bureau_seed, as_of=date(2026, 1, 15))
    assert stored["score"] == expected.report("B-1").score
    assert stored["reported_on"] == "2026-01-15"

    again = await monitoring.post("/api/v1/bureau-refresh", json={"limit": 10})
    assert again.json()["requested"] == 0


@pytest.mark.parametrize("body", [{"limit": 0}, {"max_age_days": -1}, {"tier": "A"}])
async def test_a_bad_refresh_request_is_a_422_problem_and_asks_nothing(
    monitoring: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    await register(monitoring, "L-1", "B-1")
    response = await monitoring.post("/api/v1/bureau-refresh", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert await history(monitoring, "B-1") == []


async def test_the_scheduled_refresh_stores_reports_without_being_asked(
    monitoring_settings: MonitoringSettings,
) -> None:
    settings = monitoring_settings.model_copy(update={"bureau_refresh_interval_s": 0.1})
    app = create_app(settings)
    async with running(
        app, auth=signed()
    ) as client:  # the refresh is a worker: shutdown cancels it
        await register(client, "L-1", "B-1")

        async def refreshed() -> bool:
            return len(await history(client, "B-1")) == 1

        await eventually(refreshed)
