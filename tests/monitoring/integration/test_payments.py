import json
from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import nats
import pytest

from factories import make_registration
from postloan_testing.plugin import NatsUnderTest, eventually
from shared.db import asyncpg_dsn
from shared.events import PaymentReceived, PaymentReversed, make_event

ZERO_LINE = {"penalty": "0.00", "fees": "0.00"}
PAID_AT = "2026-02-14T10:00:00+08:00"


def make_payment(
    *, payment_id: str = "P-0001", loan_id: str = "L-0001", **overrides: Any
) -> dict[str, Any]:
    """A valid ``POST /api/v1/payments`` body (BRIEF section 5), with fields overridden."""
    body: dict[str, Any] = {
        "payment_id": payment_id,
        "loan_id": loan_id,
        "amount": "1066.19",
        "currency": "CNY",
        "paid_at": PAID_AT,
        "channel": "bank_transfer",
    }
    return body | overrides


async def pay(monitoring: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await monitoring.post("/api/v1/payments", json=make_payment(**fields))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def ledger(monitoring: httpx.AsyncClient, loan_id: str = "L-0001") -> dict[str, Any]:
    """What a loan's ledger shows: its balances, schedule and payments."""
    loan = (await monitoring.get(f"/api/v1/loans/{loan_id}")).json()
    payments = (await monitoring.get(f"/api/v1/loans/{loan_id}/payments")).json()["items"]
    return {"loan": loan, "payments": payments}


@pytest.fixture
async def loan(monitoring: httpx.AsyncClient) -> dict[str, Any]:
    """L-0001: 12,000.00 at 12% over 12 months, annuity, disbursed 2026-01-15."""
    response = await monitoring.post("/api/v1/loans", json=make_registration())
    assert response.status_code == 201
    body: dict[str, Any] = response.json()
    return body


async def test_a_payment_is_allocated_and_returned_with_201(
    monitoring: httpx.AsyncClient, loan: dict[str, Any]
) -> None:
    response = await monitoring.post("/api/v1/payments", json=make_payment())
    assert response.status_code == 201, response.text
    body = response.json()
    assert datetime.fromisoformat(body["paid_at"]) == datetime.fromisoformat(PAID_AT)
    assert body | {"allocation": None, "paid_at": PAID_AT} == make_payment() | {
        "status": "applied",
        "booked_on": "2026-01-15",
        "allocation": None,
        "unapplied": "0.00",
        "reversed_at": None,
        "reversal_reason": None,
    }
    assert body["allocation"] == [
        {"seq": 1, **ZERO_LINE, "interest": "120.00", "principal": "946.19"}
    ]
    after = (await monitoring.get("/api/v1/loans/L-0001")).json()
    assert after["outstanding"] == {
        "principal": "11053.81",
        "interest": "0.00",
        "penalty": "0.00",
        "fees": "0.00",
        "total": "11053.81",
    }
    assert after["schedule"][0]["paid"] == "1066.19"
    assert after["schedule"][0]["status"] == "paid"
    assert (await monitoring.get("/api/v1/payments/P-0001")).json() == body


async def test_the_same_payment_twice_is_200_with_the_same_result(
    monitoring: httpx.AsyncClient, loan: dict[str, Any]
) -> None:
    first = await monitoring.post("/api/v1/payments", json=make_payment())
    # The same instant written in another offset is the same payment.
    again = await monitoring.post(
        "/api/v1/payments", json=make_payment(paid_at="2026-02-14T02:00:00Z")
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert (await ledger(monitoring))["loan"]["outstanding"]["principal"] == "11053.81"


async def test_a_different_body_with_a_known_payment_id_is_a_409_problem_and_changes_nothing(
    monitoring: httpx.AsyncClient, loan: dict[str, Any]
) -> None:
    await pay(monitoring)
    before = await ledger(monitoring)
    clash = await monitoring.post("/api/v1/payments", json=make_payment(amount="10.00"))
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    assert await ledger(monitoring) == before


@pytest.mark.parametrize(
    ("override", "status", "field"),
    [
        ({"amount": "-5.00"}, 422, "amount"),
        ({"amount": "0.00"}, 422, "amount"),
        ({"amount": "10.001"}, 422, "amount"),
        ({"amount": "NaN"}, 422, "amount"),
        ({"currency": "USD"}, 422, "currency"),
        ({"currency": "yuan"}, 422, "currency"),
        ({"paid_at": "2026-01-14T23:00:00+08:00"}, 422, "paid_at"),  # before disbursement
        ({"paid_at": "2026-02-14T10:00:00"}, 422, "paid_at"),  # no offset
        ({"paid_at": "yesterday"}, 422, "paid_at"),
        ({"payment_id": "P 1/2"}, 422, "payment_id"),
        ({"channel": ""}, 422, "channel"),
        ({"unexpected": 1}, 422, "unexpected"),
        ({"loan_id": "L-NOPE"}, 404, None),
    ],
)
async def test_a_bad_payment_is_a_4xx_problem_and_changes_nothing(
    monitoring: httpx.AsyncClient,
    loan: dict[str, Any],
    override: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    before = await ledger(monitoring)
    response = await monitoring.post("/api/v1/payments", json=make_payment() | override)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert field in [e["field"] for e in response.json()["errors"]]
    assert await ledger(monitoring) == before
    assert (await monitoring.get("/api/v1/payments/P-0001")).status_code == 404


async def test_an_overpayment_reduces_the_principal_of_the_last_instalments(
    monitoring: httpx.AsyncClient, loan: dict[str, Any]
) -> None:
    body = await pay(monitoring, amount="3066.19")
    assert body["allocation"] == [
        {"seq": 1, **ZERO_LINE, "interest": "120.00", "principal": "946.19"},
        {"seq": 11, **ZERO_LINE, "interest": "0.00", "principal": "944.42"},
        {"seq": 12, **ZERO_LINE, "interest": "0.00", "principal": "1055.58"},
    ]
    view = (await monitoring.get("/api/v1/loans/L-0001")).json()
    assert view["outstanding"]["principal"] == "9053.81"
    assert view["schedule"][11]["paid"] == "1055.58"  # its interest, 10.56, is still to pay
    assert view["schedule"][11]["status"] == "partial"
    assert view["status"] == "active"


async def test_the_penalty_accrued_by_end_of_day_is_paid_first(
    monitoring: httpx.AsyncClient, loan: dict[str, Any], database_url: str
) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:  # what the end-of-day batch leaves after instalment 1 went unpaid for a few days
        await conn.execute("UPDATE business_date SET business_date = '2026-02-20'")
        await conn.execute("UPDATE instalment SET penalty = 12.34, fees = 5.00 WHERE seq = 1")
    finally:
        await conn.close()
    overdue = (await monitoring.get("/api/v1/loans/L-0001")).json()
    assert overdue["outstanding"]["penalty"] == "12.34"
    body = await pay(monitoring, amount="100.00", paid_at="2026-02-20T09:00:00+08:00")
    assert body["allocation"] == [
        {"seq": 1, "penalty": "12.34", "fees": "5.00", "interest": "82.66", "principal": "0.00"}
    ]
    assert body["booked_on"] == "2026-02-20"
    view = (await monitoring.get("/api/v1/loans/L-0001")).json()
    assert view["schedule"][0]["paid"] == "100.00"
    assert view["outstanding"]["penalty"] == "0.00"


async def test_payments_arriving_out_of_order_or_twice_leave_the_in_order_ledger(
    monitoring: httpx.AsyncClient,
) -> None:
    for loan_id in ("L-A", "L-B"):
        await monitoring.post("/api/v1/loans", json=make_registration(loan_id=loan_id))
    payments = [
        {"amount": "500.00", "paid_at": "2026-02-01T10:00:00+08:00"},
        {"amount": "1200.00", "paid_at": "2026-02-10T10:00:00+08:00"},
        {"amount": "80.00", "paid_at": "2026-03-12T10:00:00+08:00"},
    ]
    for n, fields in enumerate(payments):
        await pay(monitoring, loan_id="L-A", payment_id=f"A-{n}", **fields)
    for n in (2, 0, 2, 1, 0):  # late, early, twice
        body = make_payment(loan_id="L-B", payment_id=f"B-{n}", **payments[n])
        assert (await monitoring.post("/api/v1/payments", json=body)).status_code in (200, 201)
    in_order, out_of_order = await ledger(monitoring, "L-A"), await ledger(monitoring, "L-B")
    assert in_order["loan"]["schedule"] == out_of_order["loan"]["schedule"]
    assert in_order["loan"]["outstanding"] == out_of_order["loan"]["outstanding"]
    allocations = [(p["allocation"], p["unapplied"]) for p in in_order["payments"]]
    assert allocations == [(p["allocation"], p["unapplied"]) for p in out_of_order["payments"]]
    assert allocations[0][0] == [
        {"seq": 1, **ZERO_LINE, "interest": "120.00", "principal": "380.00"}
    ]


async def test_a_reversal_reopens_exactly_what_the_payment_had_paid(
    monitoring: httpx.AsyncClient, loan: dict[str, Any]
) -> None:
    before = (await monitoring.get("/api/v1/loans/L-0001")).json()
    paid = await pay(monitoring, amount="3066.19")
    reversal = {"reason": "bounced", "reversed_at": "2026-02-15T09:00:00+08:00"}
    response = await monitoring.post("/api/v1/payments/P-0001/reversal", json=reversal)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["reversal_reason"]) == ("reversed", "bounced")
    assert body["allocation"] == paid["allocation"]  # what it had paid, kept as history
    assert (await monitoring.get("/api/v1/loans/L-0001")).json() == before
    again = await monitoring.post("/api/v1/payments/P-0001/reversal", json=reversal)
    assert (again.status_code, again.json()) == (200, body)
    other = await monitoring.post(
        "/api/v1/payments/P-0001/reversal", json=reversal | {"reason": "fraud"}
    )
    assert other.status_code == 409
    assert (await monitoring.get("/api/v1/loans/L-0001")).json() == before


async def test_reversing_an_earlier_payment_leaves_the_ledger_as_if_it_never_came(
    monitoring: httpx.AsyncClient,
) -> None:
    for loan_id in ("L-A", "L-B"):
        await monitoring.post("/api/v1/loans", json=make_registration(loan_id=loan_id))
    early = {"amount": "700.00", "paid_at": "2026-02-01T10:00:00+08:00"}
    later = {"amount": "900.00", "paid_at": "2026-02-12T10:00:00+08:00"}
    await pay(monitoring, loan_id="L-A", payment_id="A-1", **early)
    await pay(monitoring, loan_id="L-A", payment_id="A-2", **later)
    reversal = {"reason": "chargeback", "reversed_at": "2026-02-13T10:00:00+08:00"}
    response = await monitoring.post("/api/v1/payments/A-1/reversal", json=reversal)
    assert response.status_code == 200
    await pay(monitoring, loan_id="L-B", payment_id="B-2", **later)
    a, b = await ledger(monitoring, "L-A"), await ledger(monitoring, "L-B")
    assert a["loan"]["schedule"] == b["loan"]["schedule"]
    assert a["payments"][1]["allocation"] == b["payments"][0]["allocation"]
    assert a["payments"][1]["allocation"] == [
        {"seq": 1, **ZERO_LINE, "interest": "120.00", "principal": "780.00"}
    ]


def add_lines(totals: dict[int, Decimal], lines: list[dict[str, Any]], sign: int) -> None:
    """Add what allocation lines put on each instalment (``sign`` -1: took back)."""
    for line in lines:
        paid = sum(Decimal(line[p]) for p in ("penalty", "fees", "interest", "principal"))
        totals[line["seq"]] = totals.get(line["seq"], Decimal(0)) + sign * paid


async def test_the_payment_events_add_up_to_the_ledger_through_late_payments_and_reversals(
    monitoring: httpx.AsyncClient, loan: dict[str, Any], nats_server: NatsUnderTest
) -> None:
    nc = await nats.connect(nats_server.url)
    events = await nc.subscribe("postloan.monitoring.payment.>")
    try:
        await pay(monitoring, payment_id="P-2", amount="1000.00", paid_at="2026-02-14T10:00Z")
        await pay(monitoring, payment_id="P-1", amount="900.00", paid_at="2026-02-10T10:00Z")
        await pay(monitoring, payment_id="P-3", amount="700.00", paid_at="2026-03-14T10:00Z")
        reversal = {"reason": "bounced", "reversed_at": "2026-03-20T10:00:00Z"}
        response = await monitoring.post("/api/v1/payments/P-1/reversal", json=reversal)
        assert response.status_code == 200, response.text
        received = [await events.next_msg(timeout=5) for _ in range(7)]
    finally:
        await nc.close()
    by_type = Counter(m.subject.rsplit(".", 1)[-1] for m in received)
    # P-1 came late (P-2 moved) and was reversed (P-2 and P-3 moved back).
    assert by_type == {"applied": 3, "reallocated": 3, "reversed": 1}
    totals: dict[int, Decimal] = {}
    for message in received:
        data = json.loads(message.data)["data"]
        kind = message.subject.rsplit(".", 1)[-1]
        if kind == "reallocated":
            assert data["caused_by"] == "P-1"
            assert data["payment_id"] in ("P-2", "P-3")
            add_lines(totals, data["allocation"], 1)
            add_lines(totals, data["previous"], -1)
        else:
            add_lines(totals, data["allocation"], -1 if kind == "reversed" else 1)
    schedule = (await monitoring.get("/api/v1/loans/L-0001")).json()["schedule"]
    ledger_paid = {i["seq"]: Decimal(i["paid"]) for i in schedule if Decimal(i["paid"])}
    assert {seq: t for seq, t in totals.items() if t} == ledger_paid


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/payments/P-NOPE/reversal", {"reason": "x", "reversed_at": "2026-02-15T00:00Z"}),
        ("/api/v1/payments/P-0001/reversal", {"reason": "", "reversed_at": "2026-02-15T00:00Z"}),
        ("/api/v1/payments/P-0001/reversal", {"reason": "x", "reversed_at": "2026-02-15"}),
        ("/api/v1/payments/P-0001/reversal", {"reason": "x", "reversed_at": "2026-02-13T00:00Z"}),
        ("/api/v1/payments/P-0001/reversal", {"reason": "x"}),
    ],
)
async def test_a_bad_reversal_is_a_4xx_problem_and_changes_nothing(
    monitoring: httpx.AsyncClient, loan: dict[str, Any], path: str, body: dict[str, Any]
) -> None:
    await pay(monitoring)
    before = await ledger(monitoring)
    response = await monitoring.post(path, json=body)
    assert response.status_code in (404, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await ledger(monitoring) == before


async def test_unknown_payments_and_loans_are_404_problems(
    monitoring: httpx.AsyncClient, loan: dict[str, Any]
) -> None:
    for path in ("/api/v1/payments/P-NOPE", "/api/v1/loans/L-NOPE/payments"):
        response = await monitoring.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_loans_payments_are_listed_in_the_order_they_apply_page_by_page(
    monitoring: httpx.AsyncClient, loan: dict[str, Any]
) -> None:
    for n, day in enumerate((10, 3, 7, 1, 5)):
        paid_at = f"2026-02-{day:02d}T10:00:00+08:00"
        await pay(monitoring, payment_id=f"P-{n}", amount="10.00", paid_at=paid_at)
    first = (await monitoring.get("/api/v1/loans/L-0001/payments", params={"limit": 3})).json()
    params = {"limit": 3, "cursor": first["next_cursor"]}
    second = (await monitoring.get("/api/v1/loans/L-0001/payments", params=params)).json()
    ids = [p["payment_id"] for p in first["items"] + second["items"]]
    assert ids == ["P-3", "P-1", "P-4", "P-2", "P-0"]
    assert second["next_cursor"] is None
    bad = await monitoring.get("/api/v1/loans/L-0001/payments", params={"cursor": "%%%"})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["cursor"]


async def test_payments_and_reversals_published_on_the_ingest_stream_apply_once(
    monitoring: httpx.AsyncClient, loan: dict[str, Any], nats_server: NatsUnderTest
) -> None:
    before = (await monitoring.get("/api/v1/loans/L-0001")).json()
    received = PaymentReceived.model_validate(make_payment())
    undone = PaymentReversed(
        payment_id="P-0001",
        loan_id="L-0001",
        reversed_at=datetime.fromisoformat("2026-02-15T09:00:00+08:00"),
        reason="bounced",
    )
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()

        async def publish(payload: PaymentReceived | PaymentReversed) -> None:
            event = make_event(payload, source="test", subject="L-0001", domain="ingest")
            headers = {"Nats-Msg-Id": str(event.id)}
            await js.publish(event.spec.subject, event.model_dump_json().encode(), headers=headers)

        await publish(received)
        await publish(received)  # published twice, under two event ids

        async def booked() -> bool:
            return (await monitoring.get("/api/v1/payments/P-0001")).status_code == 200

        await eventually(booked)
        payments = (await monitoring.get("/api/v1/loans/L-0001/payments")).json()["items"]
        assert [p["allocation"][0]["principal"] for p in payments] == ["946.19"]
        await publish(undone)

        async def reversed_() -> bool:
            payment = (await monitoring.get("/api/v1/payments/P-0001")).json()
            return bool(payment["status"] == "reversed")

        await eventually(reversed_)
    finally:
        await nc.close()
    assert (await monitoring.get("/api/v1/loans/L-0001")).json() == before
