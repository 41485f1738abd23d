"""End to end: a promise to pay taken on a case and not kept by its date becomes
``collections.promise.broken``, and monitoring's ``broken_promise`` early-warning rule fires an
alert on the loan."""

from __future__ import annotations

from datetime import timedelta

from factories import make_registration
from postloan_testing.plugin import eventually

from .conftest import Platform
from .test_collections_chain import D0, FIRST_DUE, STRATEGY
from .test_scoring_chain import close_day

LOAN = "L-PROMISE"


async def test_a_broken_promise_raises_monitorings_alert(platform: Platform) -> None:
    monitoring, collections = platform.clients["monitoring"], platform.clients["collections"]
    assert (await collections.put("/api/v1/strategies/standard", json=STRATEGY)).status_code == 201
    await collections.post("/api/v1/strategies/standard/versions/1/activate")
    body = make_registration(loan_id=LOAN, disbursed_on=D0.isoformat(), first_due_on=None)
    assert (await monitoring.post("/api/v1/loans", json=body)).status_code == 201

    async def known() -> bool:
        return await platform.has_loan("collections", LOAN)

    await eventually(known, timeout=10)
    day = D0
    while day <= FIRST_DUE:
        await close_day(monitoring, day)
        day += timedelta(days=1)

    async def opened() -> list[dict[str, object]]:
        found: list[dict[str, object]] = (
            await collections.get("/api/v1/cases", params={"loan_id": LOAN})
        ).json()["items"]
        return found

    async def case_open() -> bool:
        return len(await opened()) == 1

    await eventually(case_open, timeout=30)
    [case] = await opened()
    promised_on = FIRST_DUE + timedelta(days=3)
    promise = await collections.post(
        f"/api/v1/cases/{case['case_id']}/promises",
        json={"amount": "100.00", "due_on": promised_on.isoformat()},
    )
    assert promise.status_code == 201, promise.text
    while day <= promised_on:  # nothing paid by the close of the promised date
        await close_day(monitoring, day)
        day += timedelta(days=1)

    async def alerted() -> bool:
        items = (await monitoring.get("/api/v1/alerts", params={"loan_id": LOAN})).json()["items"]
        return any(a["rule"] == "broken_promise" for a in items)

    await eventually(alerted, timeout=30)
    detail = (await collections.get(f"/api/v1/cases/{case['case_id']}")).json()
    assert [p["status"] for p in detail["promises"]] == ["broken"]
