"""End to end across collections and notify: a delinquent loan's day-0 SMS step is decided by
collections' guard, becomes exactly one notify message rendered from its template, reaches the
local sink, and notify's delivery updates come back onto the case's timeline."""

from __future__ import annotations

from datetime import date, timedelta

from factories import make_registration
from postloan_testing.plugin import eventually

from .conftest import Platform
from .test_collections_chain import STRATEGY
from .test_scoring_chain import close_day

D0 = date(2026, 1, 15)
FIRST_DUE = date(2026, 2, 15)
TEMPLATE = {
    "channel": "sms",
    "variables": ["name", "amount_due", "dpd", "due_date", "loan_id", "contact_line"],
    "locales": {
        "zh-CN": {
            "body": "{{ name }}，您的借款{{ loan_id }}应还{{ amount_due }}元，已逾期{{ dpd }}天。"
        },
        "en": {
            "body": "{{ name }}, {{ amount_due }} on loan {{ loan_id }} is {{ dpd }} days overdue."
        },
    },
}


async def test_a_strategy_step_reaches_the_borrower_once_and_its_delivery_comes_back(
    platform: Platform,
) -> None:
    monitoring, collections = platform.clients["monitoring"], platform.clients["collections"]
    notify = platform.clients["notify"]
    assert (await notify.put("/api/v1/templates/reminder-soft", json=TEMPLATE)).status_code == 201
    assert (await collections.put("/api/v1/strategies/standard", json=STRATEGY)).status_code == 201
    assert (
        await collections.post("/api/v1/strategies/standard/versions/1/activate")
    ).status_code == 200
    body = make_registration(loan_id="L-SMS", disbursed_on=D0.isoformat(), first_due_on=None)
    assert (await monitoring.post("/api/v1/loans", json=body)).status_code == 201

    async def everywhere() -> bool:
        return await platform.has_loan("collections", "L-SMS") and await platform.has_loan(
            "notify", "L-SMS"
        )

    await eventually(everywhere, timeout=10)
    day = D0
    while day <= FIRST_DUE:
        await close_day(monitoring, day)
        day += timedelta(days=1)

    async def delivered() -> bool:
        sink = (await notify.get("/api/v1/notify/sink", params={"channel": "sms"})).json()["items"]
        return len(sink) == 1

    await eventually(delivered, timeout=30)
    [sms] = (await notify.get("/api/v1/notify/sink", params={"channel": "sms"})).json()["items"]
    assert "L-SMS" in sms["text"]
    assert "已逾期1天" in sms["text"]

    async def recorded_sent() -> bool:  # the sink keeps it first, then notify records it sent
        found = (await notify.get("/api/v1/messages", params={"loan_id": "L-SMS"})).json()
        return [m["status"] in ("sent", "delivered") for m in found["items"]] == [True]

    await eventually(recorded_sent, timeout=10)
    [case] = (await collections.get("/api/v1/cases", params={"loan_id": "L-SMS"})).json()["items"]

    async def back_on_the_case() -> bool:
        timeline = (await collections.get(f"/api/v1/cases/{case['case_id']}")).json()["timeline"]
        return any(t["kind"] == "delivery" and t["detail"]["status"] == "sent" for t in timeline)

    await eventually(back_on_the_case, timeout=20)
