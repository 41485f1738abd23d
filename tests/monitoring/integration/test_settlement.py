import json
from typing import Any

import httpx
import nats
import pytest
from nats.aio.client import Client
from nats.aio.subscription import Subscription

from factories import make_registration
from postloan_testing.plugin import NatsUnderTest

SETTLE_ON = "2026-02-14"
#: 12,000.00 of principal and 120.00 × 30 / 31 of the first period's interest.
PAYOFF = "12116.13"


def make_payment(*, payment_id: str = "P-0001", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "payment_id": payment_id,
        "loan_id": "L-0001",
        "amount": PAYOFF,
        "currency": "CNY",
        "paid_at": f"{SETTLE_ON}T10:00:00+08:00",
        "channel": "bank_transfer",
    }
    return body | overrides


@pytest.fixture
async def loan(monitoring: httpx.AsyncClient) -> dict[str, Any]:
    """L-0001: 12,000.00 at 12% over 12 months, annuity, disbursed 2026-01-15."""
    response = await monitoring.post("/api/v1/loans", json=make_registration())
    assert response.status_code == 201
    body: dict[str, Any] = response.json()
    return body


async def test_the_payoff_on_the_business_date_is_the_principal(
    monitoring: httpx.AsyncClient, loan: dict[str, Any]
) -> None:
    response = await monitoring.get("/api/v1/loans/L-0001/payoff")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "loan_id": "L-0001",
        "as_of": "2026-01-15",  # the business date: the disbursement, no interest yet
        "currency": "CNY",
        "principal": "12000.00",
        "interest": "0.00",
        "penalty": "0.00",
        "fees": "0.00",
        "total": "12000.00",
    }


async def test_the_payoff_for_a_later_date_adds_the_interest_accrued_by_then(
    monitoring: httpx.AsyncClient, loan: dict[str, Any]
) -> None:
    quote = (await monitoring.get("/api/v1/loans/L-0001/payoff?as_of=2026-02-14")).json()
    assert (quote["interest"], quote["total"]) == ("116.13", PAYOFF)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/loans/L-0001/payoff?as_of=2026-01-14", 422),  # before the business date
        ("/api/v1/loans/L-0001/payoff?as_of=2026-02-30", 422),
        ("/api/v1/loans/L-NOPE/payoff", 404),
    ],
)
async def test_a_bad_payoff_request_is_a_4xx_problem(
    monitoring: httpx.AsyncClient, loan: dict[str, Any], path: str, status: int
) -> None:
    response = await monitoring.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


async def subscribe(url: str, *names: str) -> tuple[Client, dict[str, Subscription]]:
    nc = await nats.connect(url)
    return nc, {n: await nc.subscribe(f"postloan.monitoring.{n}") for n in names}


async def test_paying_the_payoff_settles_the_loan_and_announces_it(
    monitoring: httpx.AsyncClient, loan: dict[str, Any], nats_server: NatsUnderTest
) -> None:
    nc, subs = await subscribe(nats_server.url, "payment.applied", "loan.updated", "loan.closed")
    try:
        response = await monitoring.post("/api/v1/payments", json=make_payment(amount="12200.00"))
        assert response.status_code == 201, response.text
        assert response.json()["unapplied"] == "83.87"
        applied = json.loads((await subs["payment.applied"].next_msg(timeout=5)).data)["data"]
        updated = json.loads((await subs["loan.updated"].next_msg(timeout=5)).data)["data"]
        closed = json.loads((await subs["loan.closed"].next_msg(timeout=5)).data)["data"]
    finally:
        await nc.close()
    assert (applied["unapplied"], applied["outstanding_total"]) == ("83.87", "0.00")
    assert applied["allocation"][0] == {
        "seq": 1,
        "penalty": "0.00",
        "fees": "0.00",
        "interest": "116.13",
        "principal": "946.19",
    }
    assert (updated["status"], updated["outstanding_total"]) == ("settled", "0.00")
    assert closed == {"loan_id": "L-0001", "status": "settled", "closed_on": "2026-01-15"}
    view = (await monitoring.get("/api/v1/loans/L-0001")).json()
    assert view["status"] == "settled"
    assert view["outstanding"]["total"] == "0.00"
    assert {i["status"] for i in view["schedule"]} == {"waived"}  # interest not all paid


async def test_a_settled_loan_refuses_payments_and_payoff_quotes_and_changes_nothing(
    monitoring: httpx.AsyncClient, loan: dict[str, Any]
) -> None:
    await monitoring.post("/api/v1/payments", json=make_payment())
    before = (await monitoring.get("/api/v1/loans/L-0001")).json()
    late = await monitoring.post("/api/v1/payments", json=make_payment(payment_id="P-2"))
    assert late.status_code == 422
    assert late.json()["title"] == "Loan closed"
    assert (await monitoring.get("/api/v1/loans/L-0001/payoff")).status_code == 422
    assert (await monitoring.get("/api/v1/loans/L-0001")).json() == before
    again = await monitoring.post("/api/v1/payments", json=make_payment())  # a retry: same body
    assert again.status_code == 200


async def test_reversing_the_settling_payment_reopens_the_loan(
    monitoring: httpx.AsyncClient, loan: dict[str, Any], nats_server: NatsUnderTest
) -> None:
    before = (await monitoring.get("/api/v1/loans/L-0001")).json()
    nc, subs = await subscribe(nats_server.url, "payment.reversed", "loan.updated")
    try:
        await monitoring.post("/api/v1/payments", json=make_payment())
        settled = json.loads((await subs["loan.updated"].next_msg(timeout=5)).data)["data"]
        assert settled["status"] == "settled"
        reversal = {"reason": "bounced", "reversed_at": "2026-02-16T09:00:00+08:00"}
        response = await monitoring.post("/api/v1/payments/P-0001/reversal", json=reversal)
        assert response.status_code == 200, response.text
        undone = json.loads((await subs["payment.reversed"].next_msg(timeout=5)).data)["data"]
        updated = json.loads((await subs["loan.updated"].next_msg(timeout=5)).data)["data"]
    finally:
        await nc.close()
    assert (await monitoring.get("/api/v1/loans/L-0001")).json() == before
    assert undone["allocation"][0]["interest"] == "116.13"
    assert undone["outstanding_total"] == "12000.00"
    assert (updated["status"], updated["outstanding_total"]) == ("active", "12000.00")


async def test_a_written_off_loan_is_closed_announced_and_refuses_payments(
    monitoring: httpx.AsyncClient, loan: dict[str, Any], nats_server: NatsUnderTest
) -> None:
    nc, subs = await subscribe(nats_server.url, "loan.closed")
    try:
        response = await monitoring.post("/api/v1/loans/L-0001/write-off")
        assert response.status_code == 200, response.text
        closed = json.loads((await subs["loan.closed"].next_msg(timeout=5)).data)["data"]
    finally:
        await nc.close()
    assert response.json()["status"] == "written_off"
    assert response.json()["outstanding"]["total"] == "12000.00"
    assert closed == {"loan_id": "L-0001", "status": "written_off", "closed_on": "2026-01-15"}
    again = await monitoring.post("/api/v1/loans/L-0001/write-off")
    assert (again.status_code, again.json()) == (200, response.json())
    refused = await monitoring.post("/api/v1/payments", json=make_payment())
    assert refused.status_code == 422
    assert (await monitoring.get("/api/v1/loans/L-0001/payments")).json()["items"] == []


async def test_a_settled_or_unknown_loan_cannot_be_written_off(
    monitoring: httpx.AsyncClient, loan: dict[str, Any]
) -> None:
    assert (await monitoring.post("/api/v1/loans/L-NOPE/write-off")).status_code == 404
    await monitoring.post("/api/v1/payments", json=make_payment())
    refused = await monitoring.post("/api/v1/loans/L-0001/write-off")
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await monitoring.get("/api/v1/loans/L-0001")).json()["status"] == "settled"
