"""End to end on the embedded stack: a loan unpaid at its due date goes delinquent at end of
day, collections opens its case, the guard allows the strategy's first step, and
``collections.contact.requested`` reaches NATS for notify."""

from __future__ import annotations

from datetime import date, timedelta

from factories import make_registration
from postloan_testing.plugin import eventually
from scoring_events import Monitoring

from .conftest import Platform
from .test_scoring_chain import close_day

D0 = date(2026, 1, 15)
FIRST_DUE = date(2026, 2, 15)
STRATEGY = {
    "name": "Consumer standard",
    "products": ["default"],
    "segments": [
        {
            "segment": "early",
            "when": {"buckets": ["M1"]},
            "path": [{"day": 0, "action": "sms", "template_id": "reminder-soft"}],
        }
    ],
}


async def test_end_of_day_delinquency_reaches_a_contact_request(platform: Platform) -> None:
    monitoring, collections = platform.clients["monitoring"], platform.clients["collections"]
    assert (await collections.put("/api/v1/strategies/standard", json=STRATEGY)).status_code == 201
    assert (
        await collections.post("/api/v1/strategies/standard/versions/1/activate")
    ).status_code == 200
    body = make_registration(loan_id="L-COLL", disbursed_on=D0.isoformat(), first_due_on=None)
    assert (await monitoring.post("/api/v1/loans", json=body)).status_code == 201

    async def known() -> bool:
        return await platform.has_loan("collections", "L-COLL")

    await eventually(known, timeout=10)
    day = D0
    while day <= FIRST_DUE:  # the close of the due date leaves it unpaid: DPD 1 the morning after
        await close_day(monitoring, day)
        day += timedelta(days=1)

    async def requested() -> bool:
        found = await Monitoring(platform.nats_url).events(
            "postloan.collections.contact.requested", stream="POSTLOAN_COLLECTIONS"
        )
        return any(e["loan_id"] == "L-COLL" for e in found)

    await eventually(requested, timeout=30)
    [case] = (await collections.get("/api/v1/cases", params={"loan_id": "L-COLL"})).json()["items"]
    assert (case["status"], case["bucket"], case["dpd"]) == ("open", "M1", 1)
    assert case["opened_on"] == (FIRST_DUE + timedelta(days=1)).isoformat()
    decisions = (
        await collections.get("/api/v1/contact-decisions", params={"loan_id": "L-COLL"})
    ).json()["items"]
    assert [(d["outcome"], d["channel"], d["template_id"]) for d in decisions] == [
        ("allowed", "sms", "reminder-soft")
    ]
