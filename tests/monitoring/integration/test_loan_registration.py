import httpx
import nats
import pytest

from factories import make_registration
from postloan_testing.plugin import NatsUnderTest


async def test_a_registered_loan_is_readable_with_its_schedule(
    monitoring: httpx.AsyncClient,
) -> None:
    created = await monitoring.post("/api/v1/loans", json=make_registration())
    assert created.status_code == 201, created.text
    loan = (await monitoring.get("/api/v1/loans/L-0001")).json()
    assert loan["status"] == "active"
    assert (loan["dpd"], loan["bucket"]) == (0, "C")
    assert loan["outstanding"]["principal"] == "12000.00"
    assert loan["schedule"][0] == {
        "seq": 1,
        "due_on": "2026-02-15",
        "principal": "946.19",
        "interest": "120.00",
        "fees": "0.00",
        "amount": "1066.19",
        "paid": "0.00",
        "status": "due",
    }
    assert len(loan["schedule"]) == 12


async def test_the_same_registration_twice_returns_200_and_the_same_loan(
    monitoring: httpx.AsyncClient,
) -> None:
    first = await monitoring.post("/api/v1/loans", json=make_registration())
    again = await monitoring.post("/api/v1/loans", json=make_registration())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


async def test_a_different_body_with_a_known_loan_id_is_a_409_problem(
    monitoring: httpx.AsyncClient,
) -> None:
    await monitoring.post("/api/v1/loans", json=make_registration())
    clash = await monitoring.post("/api/v1/loans", json=make_registration(principal="5000.00"))
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    loan = (await monitoring.get("/api/v1/loans/L-0001")).json()
    assert loan["principal"] == "12000.00"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"principal": "-5.00"}, "principal"),
        ({"principal": "100.001"}, "principal"),
        ({"currency": "yuan"}, "currency"),
        ({"term_months": 0}, "term_months"),
        ({"annual_rate": "abc"}, "annual_rate"),
        ({"repayment_method": "balloon"}, "repayment_method"),
        ({"disbursed_on": "2026-02-30"}, "disbursed_on"),
        ({"loan_id": "L 1/2"}, "loan_id"),
        ({"borrower": {"borrower_id": "B-1"}}, "borrower.name"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
async def test_a_malformed_registration_is_a_422_problem_naming_the_field_and_stores_nothing(
    monitoring: httpx.AsyncClient, override: dict[str, object], field: str
) -> None:
    response = await monitoring.post("/api/v1/loans", json=make_registration() | override)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert (await monitoring.get("/api/v1/loans")).json()["items"] == []


async def test_an_unknown_loan_is_a_404_problem(monitoring: httpx.AsyncClient) -> None:
    response = await monitoring.get("/api/v1/loans/NOPE")
    assert response.status_code == 404
    assert response.json()["title"] == "loan not found"


async def test_loans_are_listed_page_by_page_with_a_cursor(monitoring: httpx.AsyncClient) -> None:
    for n in range(5):
        await monitoring.post("/api/v1/loans", json=make_registration(loan_id=f"L-{n}"))
    first = (await monitoring.get("/api/v1/loans", params={"limit": 3})).json()
    second = (
        await monitoring.get("/api/v1/loans", params={"limit": 3, "cursor": first["next_cursor"]})
    ).json()
    assert [i["loan_id"] for i in first["items"] + second["items"]] == [f"L-{n}" for n in range(5)]
    assert second["next_cursor"] is None


async def test_a_registration_is_announced_on_the_bus_once(
    monitoring: httpx.AsyncClient, nats_server: NatsUnderTest
) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        sub = await nc.subscribe("postloan.monitoring.loan.registered")
        await monitoring.post("/api/v1/loans", json=make_registration())
        await monitoring.post("/api/v1/loans", json=make_registration())
        msg = await sub.next_msg(timeout=5)
        assert b'"loan_id":"L-0001"' in msg.data
        assert msg.headers is not None
        assert "Nats-Msg-Id" in msg.headers
        with pytest.raises(nats.errors.TimeoutError):
            await sub.next_msg(timeout=0.5)
    finally:
        await nc.close()
