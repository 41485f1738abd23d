"""Collectors' outcomes and promises to pay, through the service and its ledger."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx

from postloan_testing.plugin import NatsUnderTest, eventually
from principals import collector, signed
from scoring_events import Monitoring
from shared.events import AllocationLine, PaymentApplied

from .conftest import published
from .test_cases import cases, eod, moved
from .test_contacts import decisions, open_case

ZERO = Decimal("0.00")


def payment(amount: str, on: date) -> PaymentApplied:
    line = AllocationLine(seq=1, penalty=ZERO, fees=ZERO, interest=ZERO, principal=Decimal(amount))
    return PaymentApplied(
        payment_id=f"P-{uuid.uuid4().hex[:8]}", loan_id="L-1", amount=Decimal(amount),
        currency="CNY", paid_at=datetime(on.year, on.month, on.day, 3, tzinfo=UTC), booked_on=on,
        allocation=[line], unapplied=ZERO, outstanding_total=Decimal("9000.00"),
    )  # fmt: skip


async def the_case(client: httpx.AsyncClient) -> dict[str, Any]:
    [case] = await cases(client)
    detail: dict[str, Any] = (await client.get(f"/api/v1/cases/{case['case_id']}")).json()
    return detail


async def test_a_pending_promise_holds_reminders_and_a_payment_keeps_it(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    await open_case(collections, monitoring)  # the day-0 SMS is sent on 02-16
    case_id = (await cases(collections))[0]["case_id"]
    made = await collections.post(f"/api/v1/cases/{case_id}/promises",
                                  json={"amount": "500.00", "due_on": "2026-02-20"})  # fmt: skip
    assert made.status_code == 201, made.text
    assert (made.json()["status"], made.json()["paid"]) == ("pending", "0.00")
    await monitoring.publish(eod("2026-02-17"), eod("2026-02-18"))  # day 2: the e-mail step

    async def decided() -> bool:
        return len(await decisions(collections)) == 2

    await eventually(decided)
    [second] = [d for d in await decisions(collections) if d["template_id"] == "second-notice"]
    assert (second["template_id"], second["outcome"], second["rule"]) == (
        "second-notice",
        "refused",
        "promise_pending",
    )
    await monitoring.publish(
        payment("300.00", date(2026, 2, 18)), payment("200.00", date(2026, 2, 19))
    )

    async def kept() -> bool:
        promises = (await the_case(collections))["promises"]
        return [p["status"] for p in promises] == ["kept"]

    await eventually(kept)
    [promise] = (await the_case(collections))["promises"]
    assert promise["paid"] == "500.00"


async def test_an_unpaid_promise_breaks_at_the_close_of_its_date_and_says_so(
    collections: httpx.AsyncClient, monitoring: Monitoring, nats_server: NatsUnderTest
) -> None:
    await open_case(collections, monitoring)
    case_id = (await cases(collections))[0]["case_id"]
    for due in ("2026-02-17", "2026-02-18"):
        body = {"amount": "100.00", "due_on": due}
        made = await collections.post(f"/api/v1/cases/{case_id}/promises", json=body)
        assert made.status_code == 201
    await monitoring.publish(payment("40.00", date(2026, 2, 18)))
    await monitoring.publish(eod("2026-02-18"), eod("2026-02-19"))  # closes 02-17, then 02-18

    async def judged() -> bool:
        promises = (await the_case(collections))["promises"]
        return sorted(p["status"] for p in promises) == ["broken", "partly_kept"]

    await eventually(judged)
    broken = await published(nats_server.url, "postloan.collections.promise.broken")
    assert [(b["promised_amount"], b["promised_on"]) for b in broken] == [("100.00", "2026-02-17")]
    late = await collections.post(f"/api/v1/cases/{case_id}/promises",
                                  json={"amount": "100.00", "due_on": "2026-02-01"})  # fmt: skip
    assert late.status_code == 422
    assert late.json()["errors"][0]["field"] == "due_on"


async def test_outcomes_count_in_the_ledger_and_a_reported_breach_is_recorded(
    collections: httpx.AsyncClient, monitoring: Monitoring, nats_server: NatsUnderTest
) -> None:
    await open_case(collections, monitoring)
    case_id = (await cases(collections))[0]["case_id"]
    asked = await collections.post(
        f"/api/v1/cases/{case_id}/contact-attempts", json={"channel": "agent_call"}
    )
    assert asked.json()["outcome"] == "allowed"
    talked = await collections.post(f"/api/v1/cases/{case_id}/outcomes", json={
        "channel": "agent_call", "outcome": "right_party_contact",
        "decision_id": asked.json()["decision_id"], "contacted_at": "2026-02-16T02:05:00Z",
        "duration_s": 95, "note": "will pay Friday",
    })  # fmt: skip
    assert talked.status_code == 201, talked.text
    assert talked.json()["breach"] is None
    at_night = await collections.post(
        f"/api/v1/cases/{case_id}/outcomes",
        json={
            "channel": "agent_call",
            "outcome": "no_answer",
            "contacted_at": "2026-02-16T15:30:00Z",
        },
    )  # fmt: skip  (23:30 in Shanghai, reported without asking)
    assert (at_night.status_code, at_night.json()["breach"]) == (201, "contact_hours")
    wrong = await collections.post(f"/api/v1/cases/{case_id}/outcomes", json={
        "channel": "agent_call", "outcome": "wrong_number", "contacted_at": "2026-02-16T03:00:00Z",
        "to": "+8613900000000",
    })  # fmt: skip
    assert wrong.status_code == 201
    [breach] = await published(nats_server.url, "postloan.collections.compliance.breach")
    assert (breach["rule"], breach["outcome_id"]) == (
        "contact_hours",
        at_night.json()["outcome_id"],
    )
    kinds = [t["kind"] for t in (await the_case(collections))["timeline"]]
    assert kinds.count("outcome") == 3
    bad = await collections.post(f"/api/v1/cases/{case_id}/outcomes", json={
        "channel": "agent_call", "outcome": "right_party_contact", "decision_id": str(uuid.uuid4()),
        "contacted_at": "2026-02-16T02:05:00Z",
    })  # fmt: skip
    assert bad.status_code == 422
    assert (await collections.post(f"/api/v1/cases/{case_id}/outcomes", json={
        "channel": "agent_call", "outcome": "shouted", "contacted_at": "2026-02-16T02:05:00Z",
    })).status_code == 422  # fmt: skip


async def test_a_dispute_raised_on_a_call_freezes_collection(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    await open_case(collections, monitoring)
    case_id = (await cases(collections))[0]["case_id"]
    raised = await collections.post(f"/api/v1/cases/{case_id}/outcomes", json={
        "channel": "agent_call", "outcome": "dispute", "direction": "inbound",
        "contacted_at": "2026-02-16T02:10:00Z", "note": "says the loan is not theirs",
    })  # fmt: skip
    assert raised.status_code == 201
    after = await collections.post(
        f"/api/v1/cases/{case_id}/contact-attempts", json={"channel": "agent_call"}
    )
    assert (after.json()["outcome"], after.json()["rule"]) == ("refused", "dispute")


async def test_task_steps_land_in_the_assignees_work_queue_most_urgent_first(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    await open_case(collections, monitoring)  # STRATEGY: an agent call in queue early on day 3
    case_id = (await cases(collections))[0]["case_id"]
    assigned = await collections.post(f"/api/v1/cases/{case_id}/assign", json={"assignee": "alice"})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["assignee"] == "alice"
    await monitoring.publish(eod("2026-02-17"), eod("2026-02-18"), eod("2026-02-19"))

    async def queued() -> bool:
        found = await collections.get("/api/v1/work-queue", auth=signed(collector("alice")))
        return bool(found.json()["items"])

    await eventually(queued)
    mine = await collections.get("/api/v1/work-queue", params={"queue": "early"},
                                 auth=signed(collector("alice")))  # fmt: skip
    [task] = mine.json()["items"]
    assert (task["kind"], task["queue"], task["due_on"], task["assignees"]) == (
        "agent_call",
        "early",
        "2026-02-19",
        ["alice"],
    )
    assert task["case_id"] == case_id
    guard = task["guard"]  # 10:00 in Shanghai, no call yet today
    assert (guard["outcome"], guard["allowed_until"]) == ("allowed", "2026-02-16T22:00:00+08:00")
    assert [(c["name"], c["used"], c["limit"]) for c in guard["caps"]] == [
        ("connected_calls", 0, 3),
        ("unanswered_dials", 0, 6),
    ]
    assert guard["summary"] == (
        "allowed until 22:00 Asia/Shanghai; connected_calls: 0 of 3 today; "
        "unanswered_dials: 0 of 6 today"
    )
    others = await collections.get("/api/v1/work-queue", auth=signed(collector("bob")))
    assert others.json()["items"] == []
    nobody = await collections.get("/api/v1/work-queue", auth=None)
    assert nobody.status_code == 401
    detail = (await collections.get(f"/api/v1/cases/{case_id}")).json()
    assert [t["task_id"] for t in detail["tasks"]] == [task["task_id"]]
    assert (
        await collections.post(f"/api/v1/cases/{uuid.uuid4()}/assign", json={"assignee": "a"})
    ).status_code == 404


async def test_a_field_visit_in_pack_cn_needs_two_collectors(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    await open_case(collections, monitoring)
    case_id = (await cases(collections))[0]["case_id"]
    await monitoring.publish(moved("M1", "M2", "2026-03-18", 31))  # segment late: a letter, a visit

    async def visit() -> bool:
        tasks = (await collections.get(f"/api/v1/cases/{case_id}")).json()["tasks"]
        return any(t["kind"] == "field_visit" for t in tasks)

    await monitoring.publish(eod("2026-03-19"))
    await eventually(visit)
    [task] = [t for t in (await collections.get(f"/api/v1/cases/{case_id}")).json()["tasks"]
              if t["kind"] == "field_visit"]  # fmt: skip
    alone = await collections.post(
        f"/api/v1/tasks/{task['task_id']}/assign", json={"assignees": ["alice", "alice"]}
    )
    assert alone.status_code == 422
    assert alone.json()["errors"][0]["field"] == "assignees"
    pair = await collections.post(
        f"/api/v1/tasks/{task['task_id']}/assign", json={"assignees": ["alice", "bob"]}
    )
    assert pair.status_code == 200, pair.text
    assert pair.json()["assignees"] == ["alice", "bob"]
    for who in ("alice", "bob"):
        queue = await collections.get("/api/v1/work-queue", auth=signed(collector(who)))
        assert [t["task_id"] for t in queue.json()["items"]] == [task["task_id"]]


async def test_a_promise_in_instalments_holds_while_each_one_is_paid_then_is_partly_kept(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    await open_case(collections, monitoring)
    case_id = (await cases(collections))[0]["case_id"]
    plan = [
        {"amount": "100.00", "due_on": "2026-02-17"},
        {"amount": "100.00", "due_on": "2026-02-19"},
    ]
    body = {"amount": "200.00", "due_on": "2026-02-19", "instalments": plan}
    made = await collections.post(f"/api/v1/cases/{case_id}/promises", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["instalments"] == plan
    await monitoring.publish(payment("100.00", date(2026, 2, 17)))
    await monitoring.publish(eod("2026-02-18"))  # closes 02-17: its instalment is paid

    async def paid() -> bool:
        return bool((await the_case(collections))["promises"][0]["paid"] == "100.00")

    await eventually(paid)
    assert (await the_case(collections))["promises"][0]["status"] == "pending"
    await monitoring.publish(eod("2026-02-19"), eod("2026-02-20"))  # closes 02-19 unpaid

    async def judged() -> bool:
        return bool((await the_case(collections))["promises"][0]["status"] == "partly_kept")

    await eventually(judged)
    [line] = [
        t for t in (await the_case(collections))["timeline"] if t["kind"] == "promise_partly_kept"
    ]
    assert line["detail"]["missed_instalment_due_on"] == "2026-02-19"


async def test_a_missed_first_instalment_breaks_the_promise_before_its_last_date(
    collections: httpx.AsyncClient, monitoring: Monitoring, nats_server: NatsUnderTest
) -> None:
    await open_case(collections, monitoring)
    case_id = (await cases(collections))[0]["case_id"]
    url = f"/api/v1/cases/{case_id}/promises"
    plan = [
        {"amount": "50.00", "due_on": "2026-02-17"},
        {"amount": "50.00", "due_on": "2026-02-20"},
    ]
    wrong_sum = await collections.post(url, json={"amount": "99.00", "due_on": "2026-02-20",
                                                  "instalments": plan})  # fmt: skip
    assert (wrong_sum.status_code, wrong_sum.json()["errors"][0]["field"]) == (422, "amount")
    unordered = await collections.post(url, json={"amount": "100.00", "due_on": "2026-02-17",
                                                  "instalments": plan[::-1]})  # fmt: skip
    assert unordered.status_code == 422
    assert unordered.json()["errors"][0]["field"] == "instalments"
    assert (await the_case(collections))["promises"] == []  # nothing stored
    made = await collections.post(url, json={"amount": "100.00", "due_on": "2026-02-20",
                                             "instalments": plan})  # fmt: skip
    assert made.status_code == 201, made.text
    await monitoring.publish(eod("2026-02-18"))  # closes 02-17: nothing paid

    async def broken() -> bool:
        return bool((await the_case(collections))["promises"][0]["status"] == "broken")

    await eventually(broken)
    [event] = await published(nats_server.url, "postloan.collections.promise.broken")
    assert (event["promised_amount"], event["promised_on"]) == ("100.00", "2026-02-17")
