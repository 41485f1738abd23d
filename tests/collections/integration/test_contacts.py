"""The guard's data through the API, and the decisions it leads to: stop-contact and disputes
hold at once, night-time contacts are deferred and decided again when the hours open, bad
documents are 422 problems listing each mistake with nothing stored."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import asyncpg
import httpx

from collections_service.settings import CollectionsSettings
from postloan_testing.plugin import NatsUnderTest, eventually
from scoring_events import Monitoring
from scoring_events import accepted as accepted_with_schedule
from shared.db import asyncpg_dsn
from shared.events import Channel, DeliveryUpdated, ScoreUpdated, make_event

from .conftest import NOW, Clock, published, tiers_known
from .test_cases import STRATEGY, cases, eod, loan_known, moved, with_strategy


async def decisions(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/contact-decisions", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def open_case(client: httpx.AsyncClient, monitoring: Monitoring) -> None:
    await with_strategy(client)
    await loan_known(client, monitoring)
    await monitoring.publish(moved("C", "M1", "2026-02-16", 1))

    async def decided() -> bool:
        return bool(await decisions(client))

    await eventually(decided)


async def test_a_stopped_channel_refuses_the_step(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    await loan_known(collections, monitoring)
    stopped = await collections.put(
        "/api/v1/borrowers/B-1/contact-preferences", json={"stopped_channels": ["sms"]}
    )
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["stopped_channels"] == ["sms"]
    await open_case(collections, monitoring)
    [decision] = await decisions(collections)
    assert (decision["outcome"], decision["rule"], decision["request_id"]) == (
        "refused",
        "stop_contact",
        None,
    )


async def test_an_open_dispute_refuses_and_its_resolution_lifts_it(
    collections: httpx.AsyncClient, monitoring: Monitoring, nats_server: NatsUnderTest
) -> None:
    await loan_known(collections, monitoring)
    opened = await collections.post("/api/v1/loans/L-1/disputes", json={"reason": "not my loan"})
    assert opened.status_code == 201, opened.text
    assert opened.json()["status"] == "open"
    await open_case(collections, monitoring)
    [decision] = await decisions(collections)
    assert (decision["outcome"], decision["rule"]) == ("refused", "dispute")
    resolved = await collections.post(
        f"/api/v1/disputes/{opened.json()['dispute_id']}/resolve", json={"resolution": "rejected"}
    )
    assert resolved.status_code == 200
    assert (resolved.json()["status"], resolved.json()["resolution"]) == ("resolved", "rejected")
    again = await collections.post(
        f"/api/v1/disputes/{opened.json()['dispute_id']}/resolve", json={"resolution": "upheld"}
    )
    assert again.status_code == 409
    events = await published(nats_server.url, "postloan.collections.dispute.>")
    assert [e["status"] for e in events] == ["open", "resolved"]


async def test_a_contact_at_night_is_deferred_then_decided_again_when_hours_open(
    collections: httpx.AsyncClient, monitoring: Monitoring, clock: Clock, nats_server: NatsUnderTest
) -> None:
    clock.at = datetime(2026, 2, 16, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    await open_case(collections, monitoring)
    [deferred] = await decisions(collections)
    assert (deferred["outcome"], deferred["rule"]) == ("deferred", "contact_hours")
    assert deferred["deferred_until"] == "2026-02-17T00:00:00Z"  # 08:00 in Shanghai
    clock.at = datetime(2026, 2, 17, 0, 0, tzinfo=UTC)

    async def redecided() -> bool:
        return len(await decisions(collections)) == 2

    await eventually(redecided)
    allowed, first = await decisions(collections)
    assert (allowed["outcome"], first["outcome"]) == ("allowed", "deferred")
    assert allowed["case_id"] == first["case_id"]
    [request] = await published(nats_server.url, "postloan.collections.contact.requested")
    assert request["request_id"] == allowed["request_id"]
    deferred_only = await decisions(collections, outcome="deferred")
    assert [d["decision_id"] for d in deferred_only] == [first["decision_id"]]


async def test_bad_strategies_and_packs_list_each_mistake_and_store_nothing(
    collections: httpx.AsyncClient,
) -> None:
    bad = {
        "name": "x",
        "products": ["p"],
        "segments": [
            {"segment": "s", "when": {"buckets": ["M1"]}, "path": [{"day": -1, "action": "fax"}]}
        ],
    }
    response = await collections.put("/api/v1/strategies/bad", json=bad)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"segments[0].path[0].day", "segments[0].path[0].action"} <= fields
    assert (await collections.get("/api/v1/strategies/bad")).status_code == 404
    pack = (await collections.get("/api/v1/compliance-packs/cn")).json()
    broken = {**pack["document"], "contact_hours": {"from": "25:00", "to": "22:00"}}
    refused = await collections.put("/api/v1/compliance-packs/cn", json=broken)
    assert refused.status_code == 422
    assert any(e["field"].startswith("contact_hours") for e in refused.json()["errors"])
    listed = (await collections.get("/api/v1/compliance-packs")).json()["items"]
    assert {(p["pack"], p["active_version"], tuple(p["versions"])) for p in listed} == {
        ("cn", 1, (1,)),
        ("us", 1, (1,)),
    }
    for body in (
        {"stopped_channels": ["fax"]},
        {"preferred_hours": {"from": "21:00", "to": "19:00"}},
    ):
        assert (
            await collections.put("/api/v1/borrowers/B-1/contact-preferences", json=body)
        ).status_code == 422
    assert (
        await collections.post("/api/v1/loans/L-404/disputes", json={"reason": "x"})
    ).status_code == 404


async def test_a_pack_version_is_stored_inactive_then_activated_for_every_later_decision(
    collections: httpx.AsyncClient, nats_server: NatsUnderTest
) -> None:
    pack = (await collections.get("/api/v1/compliance-packs/us")).json()
    stricter = {
        **pack["document"],
        "contact_hours": {**pack["document"]["contact_hours"], "to": "20:00"},
    }
    stored = await collections.put("/api/v1/compliance-packs/us", json=stricter)
    assert stored.status_code == 201, stored.text
    assert (stored.json()["version"], stored.json()["active"]) == (2, False)
    assert (await collections.get("/api/v1/compliance-packs/us")).json()["version"] == 1
    activated = await collections.post("/api/v1/compliance-packs/us/versions/2/activate")
    assert activated.status_code == 200
    assert (await collections.get("/api/v1/compliance-packs/us")).json()["version"] == 2
    [event] = await published(nats_server.url, "postloan.collections.pack.activated")
    assert event == {"pack": "us", "version": 2}


async def test_a_strategy_preview_counts_cases_by_segment(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    await open_case(collections, monitoring)
    preview = await collections.post(
        "/api/v1/strategies/standard/versions/1/preview", json={"as_of": "2026-02-16"}
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["segments"] == [
        {"segment": "early", "variant": None, "count": 1, "loans": ["L-1"]}
    ]
    [case] = await cases(collections)
    assert case["strategy"]["segment"] == "early"


async def test_collectors_ask_before_a_call_and_the_cap_counts_every_channel(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    await open_case(collections, monitoring)
    [case] = await cases(collections)
    path = f"/api/v1/cases/{case['case_id']}/contact-attempts"
    answers = [(await collections.post(path, json={"channel": "agent_call"})) for _ in range(4)]
    assert [a.status_code for a in answers] == [201] * 4
    outcomes = [(a.json()["outcome"], a.json()["rule"]) for a in answers]
    # cn: 3 calls a day per borrower; the pending ones hold their slots until an outcome
    assert outcomes == [("allowed", None)] * 3 + [("deferred", "daily_attempts")]
    assert answers[3].json()["deferred_until"] is not None
    logged = await decisions(collections, case_id=case["case_id"])
    assert len(logged) == 5  # the strategy's SMS and the four calls
    assert (await collections.post(path, json={"channel": "telegram"})).status_code == 422
    missing = "/api/v1/cases/00000000-0000-0000-0000-000000000000/contact-attempts"
    assert (await collections.post(missing, json={"channel": "agent_call"})).status_code == 404


async def test_a_call_at_night_is_deferred_to_the_morning_in_the_borrowers_zone(
    collections: httpx.AsyncClient, monitoring: Monitoring, clock: Clock
) -> None:
    await open_case(collections, monitoring)
    [case] = await cases(collections)
    clock.at = datetime(2026, 2, 16, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
    answer = await collections.post(
        f"/api/v1/cases/{case['case_id']}/contact-attempts", json={"channel": "agent_call"}
    )
    assert (answer.json()["outcome"], answer.json()["rule"]) == ("deferred", "contact_hours")
    until = datetime.fromisoformat(answer.json()["deferred_until"])
    assert until == datetime(2026, 2, 17, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    assert until.utcoffset() == timedelta(hours=8)  # said in the borrower's zone


PRE_DUE_STRATEGY = {
    **STRATEGY,
    "pre_due": [{"days_before": 3, "when": {"tiers": ["D", "E"]}, "action": "sms",
                 "template_id": "pre-due"}],
}  # fmt: skip


async def test_high_risk_loans_get_a_pre_due_reminder_without_a_case(
    collections: httpx.AsyncClient,
    monitoring: Monitoring,
    nats_server: NatsUnderTest,
    collections_settings: CollectionsSettings,
) -> None:
    assert (
        await collections.put("/api/v1/strategies/pre", json=PRE_DUE_STRATEGY)
    ).status_code == 201
    assert (await collections.post("/api/v1/strategies/pre/versions/1/activate")).status_code == 200
    tiers: tuple[tuple[str, Literal["E", "A"]], ...] = (("L-RISKY", "E"), ("L-SAFE", "A"))
    for loan_id, tier in tiers:
        await monitoring.publish(accepted_with_schedule(loan_id, disbursed_on=date(2026, 1, 15)))
        score = ScoreUpdated(loan_id=loan_id, pd=Decimal("0.2"), score=500, tier=tier,
                             model_version="m", reasons=[], scored_at=NOW)  # fmt: skip
        await monitoring.publish_event(
            make_event(score, source="postloan/scoring", domain="scoring")
        )

    async def tiered() -> bool:  # both loans known, with their tiers (two consumers)
        return await tiers_known(collections_settings.database_url, 2)

    await eventually(tiered)
    await monitoring.publish(eod("2026-02-12"))  # the first instalment falls due on 02-15

    async def reminded() -> bool:
        return bool(await decisions(collections))

    await eventually(reminded)
    [decision] = await decisions(collections)
    assert (decision["loan_id"], decision["case_id"], decision["outcome"]) == (
        "L-RISKY",
        None,
        "allowed",
    )
    [request] = await published(nats_server.url, "postloan.collections.contact.requested")
    assert (request["case_id"], request["template_id"]) == (None, "pre-due")
    assert request["variables"]["due_date"] == "2026-02-15"
    assert Decimal(request["variables"]["amount_due"]) > 0
    assert await cases(collections) == []  # a reminder opens no case


async def test_a_simulation_replays_the_history_and_counts_what_the_guard_refuses(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    await open_case(collections, monitoring)
    await monitoring.publish(moved("M1", "C", "2026-02-20", 0))

    async def cured() -> bool:
        return [c["status"] for c in await cases(collections)] == ["closed"]

    await eventually(cured)
    period = {"from": "2026-02-14", "to": "2026-02-24"}
    answer = await collections.post("/api/v1/strategies/standard/versions/1/simulate", json=period)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["totals"] == {"steps": {"sms": 1, "email": 1, "agent_call": 1},
                              "outcomes": {"allowed": 3}, "rules": {}}  # fmt: skip
    by_day = {d["date"]: d["steps"] for d in body["days"] if d["steps"]}
    assert by_day == {
        "2026-02-16": {"sms": 1},
        "2026-02-18": {"email": 1},
        "2026-02-19": {"agent_call": 1},
    }
    await collections.post("/api/v1/loans/L-1/disputes", json={"reason": "not mine"})  # 02-16
    disputed = await collections.post(
        "/api/v1/strategies/standard/versions/1/simulate", json=period
    )
    assert disputed.json()["totals"]["outcomes"] == {"refused": 3}
    assert disputed.json()["totals"]["rules"] == {"dispute": 3}
    too_long = {"from": "2026-01-01", "to": "2026-12-31"}
    refused = await collections.post(
        "/api/v1/strategies/standard/versions/1/simulate", json=too_long
    )
    assert refused.status_code == 422


async def test_delivery_updates_come_back_onto_the_case_and_into_the_ledger(
    collections: httpx.AsyncClient,
    monitoring: Monitoring,
    nats_server: NatsUnderTest,
    collections_settings: CollectionsSettings,
) -> None:
    await open_case(collections, monitoring)
    [request] = await published(nats_server.url, "postloan.collections.contact.requested")
    message_id = uuid.uuid4()
    for status in ("queued", "sent", "delivered"):
        update = DeliveryUpdated(message_id=message_id, request_id=uuid.UUID(request["request_id"]),
                                 borrower_id="B-1", channel=Channel.SMS, status=status)  # fmt: skip
        await monitoring.publish_event(
            make_event(update, source="postloan/notify", domain="notify")
        )
    case_id = request["case_id"]

    async def delivered() -> bool:
        timeline = (await collections.get(f"/api/v1/cases/{case_id}")).json()["timeline"]
        return [t["detail"]["status"] for t in timeline if t["kind"] == "delivery"] == [
            "queued",
            "sent",
            "delivered",
        ]

    await eventually(delivered)
    conn = await asyncpg.connect(asyncpg_dsn(collections_settings.database_url))
    try:
        status = await conn.fetchval("SELECT status FROM contact_attempt")
    finally:
        await conn.close()
    assert status == "delivered"
