"""Accepted offers booked off loans: exactly the amount, from the kind's parts, once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx

from factories import make_registration
from postloan_testing.plugin import NatsUnderTest, eventually
from scoring_events import Monitoring
from shared.events import OfferAccepted, OfferKind, make_event

D = date.fromisoformat


async def register(client: httpx.AsyncClient, loan_id: str) -> None:
    body = make_registration(loan_id=loan_id, borrower_id=f"B-{loan_id}")
    response = await client.post("/api/v1/loans", json=body)
    assert response.status_code == 201, response.text


async def close_days(client: httpx.AsyncClient, through: date) -> None:
    today = D((await client.get("/api/v1/business-date")).json()["business_date"])
    while today <= through:
        started = await client.post("/api/v1/eod", json={"as_of": today.isoformat()})
        run_id = started.json()["run_id"]
        while (await client.get(f"/api/v1/eod/{run_id}")).json()["status"] == "running":
            await asyncio.sleep(0.01)
        today += timedelta(days=1)


async def loan(client: httpx.AsyncClient, loan_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await client.get(f"/api/v1/loans/{loan_id}")).json()
    return found


def owed(view: dict[str, Any]) -> Decimal:
    return Decimal(view["outstanding"]["total"])


def offer(kind: OfferKind, amount: str, loan_id: str = "L-1") -> OfferAccepted:
    return OfferAccepted(
        offer_id=uuid.uuid4(), loan_id=loan_id, borrower_id=f"B-{loan_id}", kind=kind,
        amount=Decimal(amount), accepted_on=D("2026-02-20"),
    )  # fmt: skip


async def send(nats_url: str, accepted: OfferAccepted, *, times: int = 1) -> None:
    """Publish the request ``times`` times, each with another message id (past the bus's
    duplicate window and the consumer's inbox, as a re-publication would be)."""
    bus = Monitoring(nats_url)
    for _ in range(times):
        await bus.publish_event(
            make_event(accepted, source="postloan/collections", domain="collections"),
            msg_id=str(uuid.uuid4()),
        )


async def answers(nats_url: str, name: str) -> list[dict[str, Any]]:
    subject = f"postloan.monitoring.adjustment.{name}"
    return await Monitoring(nats_url).events(subject, stream="POSTLOAN_MONITORING")


async def test_a_penalty_waiver_comes_off_the_penalty_once_however_often_it_is_sent(
    monitoring: httpx.AsyncClient, nats_server: NatsUnderTest
) -> None:
    await register(monitoring, "L-1")
    await close_days(monitoring, D("2026-02-20"))  # instalment 1 overdue: penalty accrues
    before = await loan(monitoring, "L-1")
    assert Decimal(before["outstanding"]["penalty"]) > Decimal("1.00")
    waiver = offer(OfferKind.PENALTY_WAIVER, "1.00")
    await send(nats_server.url, waiver, times=3)

    async def booked() -> bool:
        return len(await answers(nats_server.url, "booked")) >= 1

    await eventually(booked)
    await asyncio.sleep(1.0)  # the redeliveries had their chance
    after = await loan(monitoring, "L-1")
    assert owed(before) - owed(after) == Decimal("1.00")
    penalty_before = Decimal(before["outstanding"]["penalty"])
    assert penalty_before - Decimal(after["outstanding"]["penalty"]) == Decimal("1.00")
    [answer] = await answers(nats_server.url, "booked")
    assert answer["offer_id"] == str(waiver.offer_id)
    assert Decimal(answer["outstanding_total"]) == owed(after)


async def test_a_settlement_takes_its_amount_off_the_outstanding_from_every_part(
    monitoring: httpx.AsyncClient, nats_server: NatsUnderTest
) -> None:
    await register(monitoring, "L-1")
    await close_days(monitoring, D("2026-02-20"))
    before = owed(await loan(monitoring, "L-1"))
    await send(nats_server.url, offer(OfferKind.SETTLEMENT, "2500.55"), times=2)

    async def booked() -> bool:
        return len(await answers(nats_server.url, "booked")) == 1

    await eventually(booked)
    await asyncio.sleep(0.5)
    after = await loan(monitoring, "L-1")
    assert before - owed(after) == Decimal("2500.55")
    assert Decimal(after["outstanding"]["penalty"]) == Decimal("0.00")
    assert Decimal(after["outstanding"]["interest"]) == Decimal("0.00")


async def test_an_interest_discount_credits_principal_once_due_interest_is_gone(
    monitoring: httpx.AsyncClient, nats_server: NatsUnderTest
) -> None:
    await register(monitoring, "L-1")  # nothing due yet: the discount is a principal credit
    before = owed(await loan(monitoring, "L-1"))
    await send(nats_server.url, offer(OfferKind.INTEREST_DISCOUNT, "50.00"))

    async def booked() -> bool:
        return len(await answers(nats_server.url, "booked")) == 1

    await eventually(booked)
    assert before - owed(await loan(monitoring, "L-1")) == Decimal("50.00")


async def test_more_than_the_kind_may_take_is_rejected_and_changes_nothing(
    monitoring: httpx.AsyncClient, nats_server: NatsUnderTest
) -> None:
    await register(monitoring, "L-1")
    await close_days(monitoring, D("2026-02-20"))
    before = await loan(monitoring, "L-1")
    await send(nats_server.url, offer(OfferKind.PENALTY_WAIVER, "900.00"))
    await send(nats_server.url, offer(OfferKind.INTEREST_DISCOUNT, "5000.00"))
    await send(nats_server.url, offer(OfferKind.SETTLEMENT, "1.00", loan_id="L-404"))

    async def rejected() -> bool:
        return len(await answers(nats_server.url, "rejected")) == 3

    await eventually(rejected)
    assert await loan(monitoring, "L-1") == before
    assert await answers(nats_server.url, "booked") == []


async def test_a_plan_and_a_points_redemption_each_book_their_amount_once(
    monitoring: httpx.AsyncClient, nats_server: NatsUnderTest
) -> None:
    await register(monitoring, "L-1")
    await close_days(monitoring, D("2026-02-20"))
    before = owed(await loan(monitoring, "L-1"))
    plan, redemption = (
        offer(OfferKind.INSTALMENT_PLAN, "100.00"),
        offer(OfferKind.POINTS_REDEMPTION, "5.00"),
    )
    for accepted in (plan, redemption):
        await send(nats_server.url, accepted, times=2)

    async def booked() -> bool:
        return len(await answers(nats_server.url, "booked")) == 2

    await eventually(booked)
    await asyncio.sleep(0.5)
    assert before - owed(await loan(monitoring, "L-1")) == Decimal("105.00")
    assert len(await answers(nats_server.url, "booked")) == 2
