"""End to end: offers made and approved in collections (one through the gateway) are booked in
monitoring's ledger, each changing what the loan owes by exactly its amount, and come back
``booked``; a loan that cures within days has the penalty it paid waived on its own."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx

from factories import make_registration
from postloan_testing.plugin import eventually
from principals import Signed, collector, signed

from .conftest import Edge, Platform
from .test_collections_chain import STRATEGY
from .test_scoring_chain import close_day

D0, FIRST_DUE = date(2026, 1, 15), date(2026, 2, 15)
LOAN = "L-OFFER"


def alice() -> Signed:
    """Collector alice, to whom the case is assigned, signed as the gateway would."""
    return signed(collector("alice"))


async def owed(monitoring: httpx.AsyncClient) -> Decimal:
    return Decimal((await monitoring.get(f"/api/v1/loans/{LOAN}")).json()["outstanding"]["total"])


async def open_case(platform: Platform) -> str:
    monitoring, collections = platform.clients["monitoring"], platform.clients["collections"]
    assert (await collections.put("/api/v1/strategies/standard", json=STRATEGY)).status_code == 201
    await collections.post("/api/v1/strategies/standard/versions/1/activate")
    body = make_registration(loan_id=LOAN, disbursed_on=D0.isoformat(), first_due_on=None)
    assert (await monitoring.post("/api/v1/loans", json=body)).status_code == 201

    async def known() -> bool:
        return await platform.has_loan("collections", LOAN)

    await eventually(known, timeout=10)
    day = D0
    while day <= FIRST_DUE + timedelta(days=2):  # three days late: penalty has accrued
        await close_day(monitoring, day)
        day += timedelta(days=1)

    async def opened() -> list[dict[str, Any]]:
        found = await collections.get("/api/v1/cases", params={"loan_id": LOAN})
        items: list[dict[str, Any]] = found.json()["items"]
        return items

    await eventually(lambda: _any(opened()), timeout=30)
    case_id: str = (await opened())[0]["case_id"]
    return case_id


async def _any(found: Any) -> bool:
    return bool(await found)


async def booked(collections: httpx.AsyncClient, offer_ids: list[str]) -> None:
    async def all_booked() -> bool:
        statuses = [
            (await collections.get(f"/api/v1/offers/{o}")).json()["status"] for o in offer_ids
        ]
        return statuses == ["booked"] * len(offer_ids)

    await eventually(all_booked, timeout=30)


async def test_accepted_offers_change_the_ledger_by_exactly_their_amounts_once(
    platform: Platform, edge: Edge
) -> None:
    monitoring, collections = platform.clients["monitoring"], platform.clients["collections"]
    case_id = await open_case(platform)
    assigned = await collections.post(f"/api/v1/cases/{case_id}/assign", json={"assignee": "alice"})
    assert assigned.status_code == 200, assigned.text
    before = await owed(monitoring)
    waiver = await collections.post(
        f"/api/v1/cases/{case_id}/offers",
        json={"kind": "penalty_waiver", "amount": "0.50", "expires_on": "2026-03-01"},
        auth=alice(),
    )
    assert (waiver.status_code, waiver.json()["status"]) == (201, "approved"), waiver.text
    settlement = await collections.post(
        f"/api/v1/cases/{case_id}/offers",
        json={"kind": "settlement", "amount": "500.00", "pay_amount": "11500.00",
              "expires_on": "2026-03-01"},
        auth=alice(),
    )  # fmt: skip
    assert settlement.json()["status"] == "pending_approval"
    settlement_id = settlement.json()["offer_id"]
    # The admin approves through the gateway, which forwards who they are and their roles.
    approved = await edge.client.post(f"/api/v1/offers/{settlement_id}/approve", headers=edge.auth)
    assert (approved.status_code, approved.json()["approved_by"]) == (200, "admin"), approved.text
    ids = [waiver.json()["offer_id"], settlement_id]
    for offer_id in ids:
        accepted = await collections.post(f"/api/v1/offers/{offer_id}/accept")
        assert accepted.json()["status"] == "accepted"

    await booked(collections, ids)
    assert before - await owed(monitoring) == Decimal("500.50")
    await close_day(monitoring, FIRST_DUE + timedelta(days=3))  # nothing books again
    viewed = await edge.client.get(f"/api/v1/offers/{settlement_id}", headers=edge.auth)
    assert viewed.json()["status"] == "booked"


async def test_a_quick_cure_has_the_penalty_it_paid_waived_off_the_ledger(
    platform: Platform,
) -> None:
    monitoring, collections = platform.clients["monitoring"], platform.clients["collections"]
    case_id = await open_case(platform)
    payment = {"payment_id": "P-CURE", "loan_id": LOAN, "amount": "1500.00",
               "paid_at": "2026-02-18T10:00:00+08:00", "channel": "bank"}  # fmt: skip
    made = await monitoring.post("/api/v1/payments", json=payment)
    assert made.status_code == 201, made.text
    penalty = sum(Decimal(line["penalty"]) for line in made.json()["allocation"])
    assert penalty > Decimal("0.00")
    after_payment = await owed(monitoring)
    await close_day(monitoring, FIRST_DUE + timedelta(days=3))  # DPD 0: the case cures

    async def waived() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (
            await collections.get(f"/api/v1/cases/{case_id}/offers")
        ).json()
        return found

    await eventually(lambda: _any(waived()), timeout=30)
    [waiver] = await waived()
    assert (waiver["kind"], Decimal(waiver["amount"])) == ("penalty_waiver", penalty)
    await booked(collections, [waiver["offer_id"]])
    assert after_payment - await owed(monitoring) == penalty
