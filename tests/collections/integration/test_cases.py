"""Cases from monitoring's events: one open case per loan, cure closes, relapse opens anew,
redelivered and out-of-order events change nothing, and the strategy's steps are decided and
requested from notify on the business days they are due."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from collections_service.main import create_app
from collections_service.settings import CollectionsSettings
from factories import make_registration
from postloan_testing.plugin import NatsUnderTest, eventually
from postloan_testing.servers import running
from principals import signed
from scoring_events import Monitoring
from shared.events import (
    BureauRecorded,
    DelinquencyChanged,
    EodCompleted,
    LoanAccepted,
    LoanClosed,
    LoanStatus,
    ScoreUpdated,
    make_event,
)

from .conftest import NOW, Clock, published

STRATEGY = {
    "name": "Consumer standard",
    "products": ["default"],
    "segments": [
        {
            "segment": "early",
            "when": {"buckets": ["M1"]},
            "path": [
                {"day": 0, "action": "sms", "template_id": "reminder-soft"},
                {"day": 2, "action": "email", "template_id": "second-notice"},
                {"day": 3, "action": "agent_call", "queue": "early"},
            ],
        },
        {
            "segment": "late",
            "when": {"min_dpd": 31},
            "path": [
                {"day": 0, "action": "letter", "template_id": "final"},
                {"day": 1, "action": "field_visit", "queue": "field"},
            ],
        },
    ],
    "escalation": [{"bucket": "M3", "action": "legal_review"}],
}


def accepted(loan_id: str = "L-1", borrower_id: str = "B-1") -> LoanAccepted:
    body = make_registration(loan_id=loan_id, borrower_id=borrower_id)
    return LoanAccepted.model_validate({**body, "first_due_on": "2026-02-15", "jurisdiction": "cn"})


def moved(before: str, after: str, on: str, dpd: int, loan_id: str = "L-1") -> DelinquencyChanged:
    return DelinquencyChanged(
        loan_id=loan_id,
        borrower_id="B-1",
        business_date=date.fromisoformat(on),
        dpd_before=max(dpd - 1, 0),
        dpd=dpd,
        bucket_before=before,
        bucket=after,
        overdue_amount=Decimal("1066.19"),
    )


def eod(business_date: str) -> EodCompleted:
    day = date.fromisoformat(business_date)
    return EodCompleted(
        run_id=uuid.uuid4(),
        as_of=day.replace(day=day.day - 1),
        business_date=day,
        loans_total=1,
        transitions=0,
    )


async def cases(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/cases", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def with_strategy(client: httpx.AsyncClient) -> None:
    stored = await client.put("/api/v1/strategies/standard", json=STRATEGY)
    assert stored.status_code == 201, stored.text
    assert (stored.json()["version"], stored.json()["active"]) == (1, False)
    activated = await client.post("/api/v1/strategies/standard/versions/1/activate")
    assert activated.status_code == 200
    assert activated.json()["active"] is True


async def loan_known(client: httpx.AsyncClient, monitoring: Monitoring) -> None:
    await monitoring.publish(accepted())

    async def known() -> bool:
        return (await client.get("/api/v1/collections/loans/L-1")).status_code == 200

    await eventually(known)


async def test_a_delinquent_loan_opens_one_case_and_its_first_step_is_requested(
    collections: httpx.AsyncClient, monitoring: Monitoring, nats_server: NatsUnderTest
) -> None:
    await with_strategy(collections)
    await loan_known(collections, monitoring)
    first = make_event(
        moved("C", "M1", "2026-02-16", 1), source="postloan/monitoring", domain="monitoring"
    )
    await monitoring.publish_event(first)
    await monitoring.publish_event(first, msg_id="again")  # a redelivery past the duplicate window

    async def opened() -> bool:
        return len(await cases(collections, status="open")) == 1

    await eventually(opened)
    [case] = await cases(collections)
    assert (case["bucket"], case["dpd"], case["opened_on"], case["pack"]) == (
        "M1",
        1,
        "2026-02-16",
        "cn",
    )
    assert case["strategy"] == {
        "strategy_id": "standard",
        "version": 1,
        "segment": "early",
        "variant": None,
    }

    async def requested() -> bool:
        return len(await published(nats_server.url, "postloan.collections.contact.requested")) == 1

    await eventually(requested)
    [request] = await published(nats_server.url, "postloan.collections.contact.requested")
    assert request["case_id"] == case["case_id"]
    assert (
        request["channel"],
        request["template_id"],
        request["pack"],
        request["pack_version"],
    ) == ("sms", "reminder-soft", "cn", 1)
    assert request["variables"] == {
        "name": "张三",
        "amount_due": "1066.19",
        "dpd": "1",
        "due_date": "2026-02-15",
        "loan_id": "L-1",
        "contact_line": "400-800-0000",
    }
    decisions = (
        await collections.get("/api/v1/contact-decisions", params={"loan_id": "L-1"})
    ).json()["items"]
    assert [(d["outcome"], d["rule"], d["request_id"]) for d in decisions] == [
        ("allowed", None, request["request_id"])
    ]
    opened_events = await published(nats_server.url, "postloan.collections.case.opened")
    assert [e["case_id"] for e in opened_events] == [case["case_id"]]


async def test_steps_run_on_their_business_day_and_cure_closes_and_relapse_opens_anew(
    collections: httpx.AsyncClient, monitoring: Monitoring, nats_server: NatsUnderTest
) -> None:
    await with_strategy(collections)
    await loan_known(collections, monitoring)
    await monitoring.publish(moved("C", "M1", "2026-02-16", 1))
    await monitoring.publish(eod("2026-02-17"), eod("2026-02-18"), eod("2026-02-19"))

    async def three_days_on() -> bool:
        found = await cases(collections)
        if not found:
            return False
        case = found[0]
        detail = (await collections.get(f"/api/v1/cases/{case['case_id']}")).json()
        return any(line["kind"] == "step_due" for line in detail["timeline"])

    await eventually(three_days_on)
    [case] = await cases(collections)
    assert case["dpd"] == 4  # DPD grows with the business date between bucket moves
    requested = await published(nats_server.url, "postloan.collections.contact.requested")
    assert [(r["channel"], r["template_id"]) for r in requested] == [
        ("sms", "reminder-soft"),
        ("email", "second-notice"),
    ]
    detail = (await collections.get(f"/api/v1/cases/{case['case_id']}")).json()
    kinds = [line["kind"] for line in detail["timeline"]]
    assert kinds == ["opened", "segment_entered", "contact_decided", "contact_decided", "step_due"]
    assert detail["timeline"][-1]["detail"] == {"action": "agent_call", "queue": "early", "day": 3}

    await monitoring.publish(moved("M1", "C", "2026-02-20", 0))
    await monitoring.publish(moved("C", "M1", "2026-02-10", 1))  # older than what is known: ignored

    async def cured() -> bool:
        return [c["status"] for c in await cases(collections)] == ["closed"]

    await eventually(cured)
    [closed] = await cases(collections)
    assert (closed["close_reason"], closed["closed_on"]) == ("cured", "2026-02-20")

    await monitoring.publish(moved("C", "M1", "2026-03-16", 1))

    async def relapsed() -> bool:
        return len(await cases(collections)) == 2

    await eventually(relapsed)
    newest, oldest = await cases(collections)
    assert (newest["status"], oldest["status"]) == ("open", "closed")
    assert newest["case_id"] != oldest["case_id"]
    assert [c["status"] for c in await cases(collections, status="open")] == ["open"]
    closed_events = await published(nats_server.url, "postloan.collections.case.closed")
    assert [e["reason"] for e in closed_events] == ["cured"]


@pytest.mark.parametrize(
    ("status", "reason"), [(LoanStatus.CLOSED, "paid_off"), (LoanStatus.WRITTEN_OFF, "written_off")]
)
async def test_payoff_and_write_off_close_the_case(
    collections: httpx.AsyncClient, monitoring: Monitoring, status: LoanStatus, reason: str
) -> None:
    await loan_known(collections, monitoring)
    await monitoring.publish(moved("C", "M1", "2026-02-16", 1))
    await monitoring.publish(LoanClosed(loan_id="L-1", status=status, closed_on=date(2026, 2, 20)))

    async def closed() -> bool:
        found = await cases(collections)
        return bool(found) and found[0]["status"] == "closed"

    await eventually(closed)
    [case] = await cases(collections)
    assert case["close_reason"] == reason
    assert case["strategy"] is None  # no strategy active for the product: worked by hand


async def test_the_tier_follows_scoring_onto_the_case(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    await loan_known(collections, monitoring)
    score = ScoreUpdated(
        loan_id="L-1",
        pd=Decimal("0.3100"),
        score=520,
        tier="D",
        model_version="m-1",
        reasons=[],
        scored_at=NOW,
    )
    await monitoring.publish_event(make_event(score, source="postloan/scoring", domain="scoring"))
    await monitoring.publish(moved("C", "M1", "2026-02-16", 1))

    async def tiered() -> bool:
        found = await cases(collections)
        return bool(found) and found[0]["tier"] == "D"

    await eventually(tiered)


async def test_bad_filters_and_unknown_cases_are_problems(collections: httpx.AsyncClient) -> None:
    bad = await collections.get("/api/v1/cases", params={"status": "pending"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    missing = await collections.get(f"/api/v1/cases/{uuid.uuid4()}")
    assert missing.status_code == 404


async def test_the_quadrant_is_read_from_the_bureau_and_shown_with_its_inputs(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    await loan_known(collections, monitoring)
    await monitoring.publish(moved("C", "M1", "2026-02-16", 1))

    async def opened() -> bool:
        return bool(await cases(collections))

    await eventually(opened)
    [case] = await cases(collections)
    assert case["quadrant"] == "able_willing"  # no signal yet: the benefit of the doubt
    report = BureauRecorded(
        borrower_id="B-1",
        reported_at=NOW,
        score=480,
        inquiries_30d=6,
        open_loans=5,
        total_debt=Decimal("150000.00"),
        delinquent_accounts=2,
    )
    await monitoring.publish(report)

    async def unable() -> bool:
        return bool((await cases(collections))[0]["quadrant"] == "unable_willing")

    await eventually(unable)
    [case] = await cases(collections)
    assert case["quadrant_inputs"]["signals"] == {
        "ability.bureau_score": False,
        "ability.total_debt": False,
        "ability.no_delinquency_elsewhere": False,
    }
    older = report.model_copy(update={"reported_at": NOW.replace(year=2025), "score": 800})
    await monitoring.publish(older)  # an older report changes nothing
    await monitoring.publish(moved("M1", "M2", "2026-03-18", 31))

    async def moved_on() -> bool:
        return bool((await cases(collections))[0]["bucket"] == "M2")

    await eventually(moved_on)
    assert (await cases(collections))[0]["quadrant"] == "unable_willing"


async def test_a_relapse_whose_cure_came_out_of_order_closes_the_case_and_opens_anew(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    await loan_known(collections, monitoring)
    await monitoring.publish(moved("C", "M1", "2026-02-16", 1))
    await monitoring.publish(moved("C", "M1", "2026-03-16", 1))  # its cure (02-20) comes after
    await monitoring.publish(moved("M1", "C", "2026-02-20", 0))

    async def two() -> bool:
        return len(await cases(collections)) == 2

    await eventually(two)
    newest, oldest = await cases(collections)
    assert (oldest["status"], oldest["close_reason"], oldest["closed_on"]) == (
        "closed",
        "cured",
        "2026-03-16",
    )
    assert (newest["status"], newest["opened_on"]) == ("open", "2026-03-16")
    detail = (await collections.get(f"/api/v1/cases/{oldest['case_id']}")).json()
    assert detail["timeline"][-1]["detail"] == {"reason": "cured", "cure_not_seen": True}


async def test_a_batch_of_facts_is_applied_set_based_in_order_per_loan_and_borrower(
    collections_settings: CollectionsSettings,
    clock: Clock,
    monitoring: Monitoring,
    nats_server: NatsUnderTest,
) -> None:
    """Facts waiting while collections is down arrive in one batch: two loans of one borrower
    open, one cures and relapses, a redelivery comes in the middle — each applied in its
    loan's order, one decision per opening, nothing twice."""
    async with running(create_app(collections_settings, clock=clock)) as client:
        client.auth = signed()
        await with_strategy(client)
        await monitoring.publish(accepted("L-1"), accepted("L-2"))

        async def both_known() -> bool:
            answers = [await client.get(f"/api/v1/collections/loans/L-{i}") for i in (1, 2)]
            return all(a.status_code == 200 for a in answers)

        await eventually(both_known)
    opening = make_event(
        moved("C", "M1", "2026-02-16", 1), source="postloan/monitoring", domain="monitoring"
    )
    await monitoring.publish_event(opening)
    await monitoring.publish(moved("C", "M1", "2026-02-16", 1, loan_id="L-2"))
    await monitoring.publish_event(opening, msg_id="again")  # a redelivery among them
    await monitoring.publish(moved("M1", "C", "2026-02-18", 0))
    await monitoring.publish(moved("C", "M1", "2026-03-16", 1))
    async with running(create_app(collections_settings, clock=clock)) as client:
        client.auth = signed()

        async def three() -> bool:
            return len(await cases(client)) == 3

        await eventually(three)
        found = {(c["loan_id"], c["opened_on"]): c for c in await cases(client)}
        first, relapse = found[("L-1", "2026-02-16")], found[("L-1", "2026-03-16")]
        assert (first["status"], first["close_reason"], first["closed_on"]) == (
            "closed",
            "cured",
            "2026-02-18",
        )
        assert relapse["status"] == found[("L-2", "2026-02-16")]["status"] == "open"
        detail = (await client.get(f"/api/v1/cases/{first['case_id']}")).json()
        assert [line["kind"] for line in detail["timeline"]] == [
            "opened",
            "segment_entered",
            "contact_decided",
            "closed",
        ]
        decisions = (await client.get("/api/v1/contact-decisions")).json()["items"]
        assert sorted(d["case_id"] for d in decisions) == sorted(
            c["case_id"] for c in found.values()
        )
    requests = await published(nats_server.url, "postloan.collections.contact.requested")
    assert len({r["request_id"] for r in requests}) == len(requests) == 3
