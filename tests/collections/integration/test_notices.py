"""The notice rules through the service: under pack ``us`` a debt gets nothing but its
validation notice once five days have passed since the first contact without one; a legal
notice on a debt whose last payment is older than the limitation years is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx

from factories import make_registration
from postloan_testing.plugin import eventually
from scoring_events import Monitoring
from shared.events import AllocationLine, LoanAccepted, PaymentApplied

from .conftest import Clock
from .test_cases import cases, eod, moved
from .test_contacts import decisions

ZERO = Decimal("0.00")


def strategy(*path: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "us",
        "products": ["default"],
        "segments": [{"segment": "early", "when": {"buckets": ["M1"]}, "path": list(path)}],
    }


async def us_case(
    client: httpx.AsyncClient, monitoring: Monitoring, document: dict[str, Any]
) -> None:
    assert (await client.put("/api/v1/strategies/us", json=document)).status_code == 201
    assert (await client.post("/api/v1/strategies/us/versions/1/activate")).status_code == 200
    body = make_registration(loan_id="L-1", borrower_id="B-1")
    await monitoring.publish(
        LoanAccepted.model_validate({**body, "first_due_on": "2026-02-15", "jurisdiction": "us"})
    )

    async def known() -> bool:
        return (await client.get("/api/v1/collections/loans/L-1")).status_code == 200

    await eventually(known)
    await monitoring.publish(moved("C", "M1", "2026-02-16", 1))

    async def opened() -> bool:
        return bool(await cases(client))

    await eventually(opened)


async def later(
    client: httpx.AsyncClient, monitoring: Monitoring, clock: Clock, count: int
) -> list[dict[str, Any]]:
    clock.at = datetime(2026, 2, 23, 2, 0, tzinfo=UTC)  # a week after the first contact
    await monitoring.publish(eod("2026-02-23"))

    async def decided() -> bool:
        return len(await decisions(client)) == count

    await eventually(decided)
    return await decisions(client)


async def test_after_five_days_without_a_validation_notice_only_the_notice_may_go(
    collections: httpx.AsyncClient, monitoring: Monitoring, clock: Clock
) -> None:
    await us_case(collections, monitoring, strategy(
        {"day": 0, "action": "sms", "template_id": "reminder"},
        {"day": 7, "action": "email", "template_id": "second"},
        {"day": 7, "action": "letter", "template_id": "validation", "purpose": "validation_notice"},
    ))  # fmt: skip
    found = await later(collections, monitoring, clock, 3)
    by_template = {d["template_id"]: (d["outcome"], d["rule"]) for d in found}
    assert by_template == {
        "reminder": ("allowed", None), "second": ("refused", "validation_notice"),
        "validation": ("allowed", None),
    }  # fmt: skip


async def test_a_validation_notice_sent_in_time_lets_reminders_go_on(
    collections: httpx.AsyncClient, monitoring: Monitoring, clock: Clock
) -> None:
    await us_case(collections, monitoring, strategy(
        {"day": 0, "action": "sms", "template_id": "reminder"},
        {"day": 0, "action": "letter", "template_id": "validation", "purpose": "validation_notice"},
        {"day": 7, "action": "email", "template_id": "second"},
    ))  # fmt: skip
    found = await later(collections, monitoring, clock, 3)
    assert {d["template_id"]: d["outcome"] for d in found} == {
        "reminder": "allowed",
        "validation": "allowed",
        "second": "allowed",
    }


async def test_a_legal_notice_on_a_time_barred_debt_is_refused(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    line = AllocationLine(seq=1, penalty=ZERO, fees=ZERO, interest=ZERO, principal=Decimal("10.00"))
    paid = PaymentApplied(
        payment_id="P-1", loan_id="L-1", amount=Decimal("10.00"), currency="CNY",
        paid_at=datetime(2022, 1, 10, tzinfo=UTC), booked_on=date(2022, 1, 10), allocation=[line],
        unapplied=ZERO, outstanding_total=Decimal("100.00"),
    )  # fmt: skip
    body = make_registration(loan_id="L-1", borrower_id="B-1")
    await monitoring.publish(
        LoanAccepted.model_validate({**body, "first_due_on": "2026-02-15", "jurisdiction": "us"}),
        paid,
    )
    document = strategy(
        {"day": 0, "action": "letter", "template_id": "suit", "purpose": "legal_notice"}
    )
    assert (await collections.put("/api/v1/strategies/us", json=document)).status_code == 201
    assert (await collections.post("/api/v1/strategies/us/versions/1/activate")).status_code == 200
    await monitoring.publish(moved("C", "M1", "2026-02-16", 1))

    async def decided() -> bool:
        return bool(await decisions(collections))

    await eventually(decided)
    [decision] = await decisions(collections)
    assert (decision["outcome"], decision["rule"]) == ("refused", "time_barred")


async def test_a_purpose_on_a_task_step_is_a_mistake(collections: httpx.AsyncClient) -> None:
    bad = strategy(
        {"day": 0, "action": "agent_call", "queue": "q", "purpose": "legal_notice"},
        {"day": 1, "action": "sms", "template_id": "t", "purpose": "threat"},
    )
    answer = await collections.put("/api/v1/strategies/bad", json=bad)
    assert answer.status_code == 422
    assert {e["field"] for e in answer.json()["errors"]} == {
        "segments[0].path[0].purpose",
        "segments[0].path[1].purpose",
    }
