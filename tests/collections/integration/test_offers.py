"""Offers and incentives through the service: approval limits, acceptance and the ledger's
answer, the points ledger, the quick-cure waiver and expiry."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import asyncpg
import httpx

from gateway.domain.scopes import Role
from postloan_testing.plugin import NatsUnderTest, eventually
from principals import Signed, make_principal, signed
from scoring_events import Monitoring
from scoring_events import accepted as registered
from shared.db import asyncpg_dsn
from shared.events import (
    AdjustmentBooked,
    AdjustmentRejected,
    AllocationLine,
    DelinquencyChanged,
    LoanStatus,
    LoanUpdated,
    OfferKind,
    PaymentApplied,
    PaymentUndone,
    make_event,
)

from .conftest import published
from .test_cases import eod, with_strategy

D = date.fromisoformat
ZERO = Decimal("0.00")
LOAN, BORROWER = "L-1", "B-L-1"
LOAN_ACCEPTED = registered(LOAN, disbursed_on=D("2026-01-15"))


def who(subject: str, *roles: str) -> Signed:
    """A caller signed as the gateway would: collectors alice and bob hold the case (it is
    alice's and a task of it is bob's too), supervisor sam leads them."""
    team = ("alice", "bob") if "supervisor" in roles else ()
    return signed(make_principal(subject, *(Role(r) for r in roles), team=team))


def moved(before: str, after: str, on: str, dpd: int) -> DelinquencyChanged:
    return DelinquencyChanged(
        loan_id=LOAN, borrower_id=BORROWER, business_date=D(on), dpd_before=max(dpd - 1, 0),
        dpd=dpd, bucket_before=before, bucket=after, overdue_amount=Decimal("1066.19"),
    )  # fmt: skip


def balance(outstanding: str, on: str = "2026-02-16") -> LoanUpdated:
    return LoanUpdated(
        loan_id=LOAN, status=LoanStatus.DELINQUENT, dpd=1, bucket="M1",
        outstanding_total=Decimal(outstanding), business_date=D(on),
    )  # fmt: skip


def paid(payment_id: str, on: str, *, penalty: str = "0.00", seq: int = 1) -> PaymentApplied:
    """A payment of instalment ``seq`` in full (and ``penalty``), booked on ``on``."""
    assert LOAN_ACCEPTED.schedule is not None
    due = LOAN_ACCEPTED.schedule[seq - 1]
    line = AllocationLine(seq=seq, penalty=Decimal(penalty), fees=ZERO, interest=due.interest,
                          principal=due.principal)  # fmt: skip
    return PaymentApplied(
        payment_id=payment_id, loan_id=LOAN, amount=due.principal + due.interest,
        currency="CNY", paid_at=datetime.combine(D(on), time(2), UTC), booked_on=D(on),
        allocation=[line], unapplied=ZERO, outstanding_total=Decimal("11000.00"),
    )  # fmt: skip


async def case_open(client: httpx.AsyncClient, monitoring: Monitoring, database_url: str) -> str:
    """A case on L-1 (opened 2026-02-16) whose loan owes 10,000.00."""
    await with_strategy(client)
    await monitoring.publish(LOAN_ACCEPTED, moved("C", "M1", "2026-02-16", 1), balance("10000.00"))

    async def opened() -> bool:
        found = (await client.get("/api/v1/cases")).json()["items"]
        return bool(found) and await owed(database_url) == Decimal("10000.00")

    await eventually(opened)
    case_id: str = (await client.get("/api/v1/cases")).json()["items"][0]["case_id"]
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:  # the case is alice's, and a task of it bob's too: both collectors may work it
        await conn.execute(
            "UPDATE collection_case SET assignee = 'alice' WHERE case_id = $1", uuid.UUID(case_id)
        )
        await conn.execute(
            "INSERT INTO task (task_id, case_id, kind, queue, due_on, assignees, status,"
            " created_at) VALUES ($1, $2, 'agent_call', 'early', DATE '2026-02-16',"
            " ARRAY['alice', 'bob'], 'open', now())",
            uuid.uuid4(),
            uuid.UUID(case_id),
        )
    finally:
        await conn.close()
    return case_id


async def owed(database_url: str) -> Decimal | None:
    """The loan's outstanding as collections last heard it."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        found: Decimal | None = await conn.fetchval(
            "SELECT outstanding FROM loan_state WHERE loan_id = $1", LOAN
        )
    finally:
        await conn.close()
    return found


async def offer(
    client: httpx.AsyncClient, case_id: str, caller: Signed, **body: Any
) -> httpx.Response:
    body = {"kind": "penalty_waiver", "expires_on": "2026-03-01"} | body
    return await client.post(f"/api/v1/cases/{case_id}/offers", json=body, auth=caller)


async def act(
    client: httpx.AsyncClient, offer_id: str, action: str, caller: Signed | None = None
) -> httpx.Response:
    return await client.post(
        f"/api/v1/offers/{offer_id}/{action}", auth=caller or httpx.USE_CLIENT_DEFAULT
    )


async def test_offers_within_the_makers_limit_are_approved_and_others_wait_for_a_higher_one(
    collections: httpx.AsyncClient, monitoring: Monitoring, database_url: str
) -> None:
    case_id = await case_open(collections, monitoring, database_url)
    alice, bob = who("alice", "collector"), who("bob", "collector")
    sam, root = who("sam", "supervisor"), who("root", "admin")
    small = await offer(collections, case_id, alice, amount="150.00")
    assert small.status_code == 201, small.text
    assert (small.json()["status"], small.json()["approved_by"]) == ("approved", None)
    assert small.json()["approval"] == "creator_limit"

    larger = (await offer(collections, case_id, alice, amount="300.00")).json()
    assert larger["status"] == "pending_approval"
    own = await act(collections, larger["offer_id"], "approve", alice)
    assert (own.status_code, own.json()["rule"]) == (403, "self_approval")
    low = await act(collections, larger["offer_id"], "approve", bob)
    assert (low.status_code, low.json()["rule"]) == (403, "approval_limit")
    approved = await act(collections, larger["offer_id"], "approve", sam)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["approved_by"]) == ("approved", "sam")
    again = await act(collections, larger["offer_id"], "approve", root)
    assert again.status_code == 409

    # 3,500.00 is within the supervisor's 5,000.00 but above 30% of the 10,000.00 owed.
    big = (await offer(collections, case_id, alice, kind="settlement", amount="3500.00",
                       pay_amount="6500.00")).json()  # fmt: skip
    assert big["status"] == "pending_approval"
    above = await act(collections, big["offer_id"], "approve", sam)
    assert (above.status_code, above.json()["rule"]) == (403, "approval_limit")
    assert (await act(collections, big["offer_id"], "approve", root)).status_code == 200
    own_by_admin = (await offer(collections, case_id, root, amount="9000.00")).json()
    assert own_by_admin["status"] == "approved"


async def test_an_accepted_offer_asks_the_ledger_once_and_its_booking_marks_it_booked(
    collections: httpx.AsyncClient,
    monitoring: Monitoring,
    nats_server: NatsUnderTest,
    database_url: str,
) -> None:
    case_id = await case_open(collections, monitoring, database_url)
    made = (await offer(collections, case_id, who("alice", "collector"), amount="120.00")).json()
    accepted = await act(collections, made["offer_id"], "accept")
    assert (accepted.status_code, accepted.json()["status"]) == (200, "accepted")
    assert (await act(collections, made["offer_id"], "accept")).status_code == 409

    async def requested() -> list[dict[str, Any]]:
        return await published(nats_server.url, "postloan.collections.offer.accepted")

    await eventually(lambda: _nonempty(requested()))
    [request] = await requested()
    assert (request["offer_id"], request["amount"], request["kind"]) == (
        made["offer_id"], "120.00", "penalty_waiver",
    )  # fmt: skip
    booked = AdjustmentBooked(
        offer_id=uuid.UUID(made["offer_id"]), loan_id=LOAN, kind=OfferKind.PENALTY_WAIVER,
        amount=Decimal("120.00"), booked_on=D("2026-02-16"), lines=[],
        outstanding_total=Decimal("9880.00"),
    )  # fmt: skip
    for _ in range(2):  # a re-publication (a new envelope) changes nothing either
        await monitoring.publish_event(make_event(booked, source="m", domain="monitoring"))

    async def is_booked() -> bool:
        found = (await collections.get(f"/api/v1/offers/{made['offer_id']}")).json()
        return bool(found["status"] == "booked")

    await eventually(is_booked)
    detail = (await collections.get(f"/api/v1/cases/{case_id}")).json()
    assert [o["status"] for o in detail["offers"]] == ["booked"]
    lines = [t["kind"] for t in detail["timeline"] if t["kind"].startswith("offer_")]
    assert lines == ["offer_made", "offer_accepted", "offer_booked"]


async def _nonempty(found: Any) -> bool:
    return bool(await found)


async def test_bad_offers_name_each_mistake_and_store_nothing(
    collections: httpx.AsyncClient, monitoring: Monitoring, database_url: str
) -> None:
    case_id = await case_open(collections, monitoring, database_url)
    alice = who("alice", "collector")
    bad = await offer(collections, case_id, alice, kind="settlement", amount="100.00",
                      expires_on="2026-02-01", schedule=[{"amount": "1.00",
                                                          "due_on": "2026-03-01"}])  # fmt: skip
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in bad.json()["errors"]}
    assert fields == {"expires_on", "pay_amount", "schedule"}
    plan = await offer(collections, case_id, alice, kind="instalment_plan", amount="0.00",
                       schedule=[{"amount": "500.00", "due_on": "2026-03-01"},
                                 {"amount": "500.00", "due_on": "2026-02-20"}])  # fmt: skip
    assert [e["field"] for e in plan.json()["errors"]] == ["schedule[1].due_on"]
    unknown = await offer(collections, case_id, alice, kind="cashback", amount="1.00")
    assert unknown.status_code == 422
    assert (await collections.get(f"/api/v1/cases/{case_id}/offers")).json() == []
    missing = await act(collections, str(uuid.uuid4()), "accept")
    assert missing.status_code == 404


async def points(client: httpx.AsyncClient) -> dict[str, Any]:
    found: dict[str, Any] = (await client.get(f"/api/v1/borrowers/{BORROWER}/points")).json()
    return found


async def test_instalments_paid_on_time_earn_points_that_redeem_as_an_interest_discount(
    collections: httpx.AsyncClient,
    monitoring: Monitoring,
    nats_server: NatsUnderTest,
    database_url: str,
) -> None:
    case_id = await case_open(collections, monitoring, database_url)
    on_time = paid("P-1", "2026-02-15")
    await monitoring.publish(on_time)
    await monitoring.publish(on_time)  # a new envelope of the same payment earns nothing more

    async def earned() -> bool:
        return bool((await points(collections))["balance"] == 10)

    await eventually(earned)
    alice = who("alice", "collector")
    too_many = await offer(collections, case_id, alice, kind="points_redemption", points=11)
    assert [e["field"] for e in too_many.json()["errors"]] == ["points"]
    redeemed = await offer(collections, case_id, alice, kind="points_redemption", points=10)
    assert redeemed.status_code == 201, redeemed.text
    body = redeemed.json()
    assert (body["amount"], body["status"], body["approval"]) == ("5.00", "approved", "points")
    assert (await points(collections))["balance"] == 0
    await act(collections, body["offer_id"], "accept")
    rejected = AdjustmentRejected(offer_id=uuid.UUID(body["offer_id"]), loan_id=LOAN,
                                  kind=OfferKind.POINTS_REDEMPTION, amount=Decimal("5.00"),
                                  reason="the loan is settled")  # fmt: skip
    await monitoring.publish(rejected)

    async def returned() -> bool:
        return bool((await points(collections))["balance"] == 10)

    await eventually(returned)
    reversed_ = PaymentUndone(payment_id="P-1", loan_id=LOAN, reversed_at=on_time.paid_at,
                              booked_on=D("2026-02-17"), allocation=on_time.allocation,
                              outstanding_total=Decimal("12000.00"))  # fmt: skip
    await monitoring.publish(reversed_)

    async def clawed() -> bool:
        return bool((await points(collections))["balance"] == 0)

    await eventually(clawed)
    reasons = sorted(e["reason"] for e in (await points(collections))["entries"])
    assert reasons == ["clawed_back", "earned", "redeemed", "returned"]


async def test_a_late_instalment_earns_nothing(
    collections: httpx.AsyncClient, monitoring: Monitoring, database_url: str
) -> None:
    await case_open(collections, monitoring, database_url)
    # The first instalment (due 02-15) paid late, the second (due 03-15) early.
    await monitoring.publish(paid("P-late", "2026-02-17"), paid("P-early", "2026-02-17", seq=2))

    async def earned() -> bool:
        return bool((await points(collections))["entries"])

    await eventually(earned)
    assert (await points(collections))["balance"] == 10


async def test_a_quick_cure_waives_the_penalty_paid_automatically_once(
    collections: httpx.AsyncClient,
    monitoring: Monitoring,
    nats_server: NatsUnderTest,
    database_url: str,
) -> None:
    case_id = await case_open(collections, monitoring, database_url)
    cure = moved("M1", "C", "2026-02-19", 0)
    await monitoring.publish(paid("P-2", "2026-02-18", penalty="3.21"), cure)
    await monitoring.publish(cure)  # a new envelope of the same fact

    async def waived() -> bool:
        found = (await collections.get(f"/api/v1/cases/{case_id}/offers")).json()
        return len(found) == 1

    await eventually(waived)
    [made] = (await collections.get(f"/api/v1/cases/{case_id}/offers")).json()
    assert (made["kind"], made["amount"], made["status"]) == ("penalty_waiver", "3.21", "accepted")
    assert (made["created_by"], made["approval"]) == ("system", "quick_cure")
    requests = await published(nats_server.url, "postloan.collections.offer.accepted")
    assert [r["offer_id"] for r in requests] == [made["offer_id"]]


async def test_an_offer_nobody_accepted_expires_at_the_end_of_its_day(
    collections: httpx.AsyncClient, monitoring: Monitoring, database_url: str
) -> None:
    case_id = await case_open(collections, monitoring, database_url)
    made = (await offer(collections, case_id, who("alice", "collector"), amount="50.00",
                        expires_on="2026-02-17")).json()  # fmt: skip
    await monitoring.publish(eod("2026-02-18"))

    async def expired() -> bool:
        found = (await collections.get(f"/api/v1/offers/{made['offer_id']}")).json()
        return bool(found["status"] == "expired")

    await eventually(expired)
    assert (await act(collections, made["offer_id"], "accept")).status_code == 409
