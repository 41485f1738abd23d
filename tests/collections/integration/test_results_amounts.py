"""Strategy results in money, on a portfolio small enough to compute by hand: two cases of the
strategy, one recovering 500.00 and one nothing, each with one SMS (0.05). A resample of two
cases has mean 0.00, 250.00 or 500.00 (chances 1/4, 1/2, 1/4): the 95% bootstrap interval is
[0.00, 500.00] around 250.00 (see tests/collections/unit/test_bootstrap.py), and the cost per
case is 0.05 with no spread. Two cases are too few: the answer and the report say so."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx

from postloan_testing.plugin import eventually
from scoring_events import Monitoring
from shared.events import AllocationLine, PaymentApplied

from .test_cases import accepted, cases, moved, with_strategy
from .test_contacts import decisions

ZERO = Decimal("0.00")


def paid(loan_id: str, amount: str) -> PaymentApplied:
    line = AllocationLine(seq=1, penalty=ZERO, fees=ZERO, interest=ZERO, principal=Decimal(amount))
    return PaymentApplied(
        payment_id=f"P-{loan_id}", loan_id=loan_id, amount=Decimal(amount), currency="CNY",
        paid_at=datetime(2026, 2, 17, 2, tzinfo=UTC), booked_on=date(2026, 2, 17),
        allocation=[line], unapplied=ZERO, outstanding_total=Decimal("566.19"),
    )  # fmt: skip


async def two_cases(client: httpx.AsyncClient, monitoring: Monitoring) -> None:
    await with_strategy(client)
    await monitoring.publish(accepted("L-1"), accepted("L-2"))

    async def known() -> bool:
        for loan in ("L-1", "L-2"):
            if (await client.get(f"/api/v1/collections/loans/{loan}")).status_code != 200:
                return False
        return True

    await eventually(known)
    await monitoring.publish(
        moved("C", "M1", "2026-02-16", 1), moved("C", "M1", "2026-02-16", 1, "L-2")
    )

    async def decided() -> bool:
        return len(await cases(client)) == 2 and len(await decisions(client)) == 2

    await eventually(decided)
    await monitoring.publish(paid("L-1", "500.00"))


async def test_amounts_per_case_have_their_bootstrap_intervals_computed_by_hand(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    await two_cases(collections, monitoring)

    async def recovered() -> bool:
        answer = await collections.get("/api/v1/strategies/standard/results/amounts")
        return bool(answer.json()["arms"][0]["recovered_per_case"]["mean"] == "250.00")

    await eventually(recovered)
    [arm] = (await collections.get("/api/v1/strategies/standard/results/amounts")).json()["arms"]
    money, cost = arm["recovered_per_case"], arm["contact_cost_per_case"]
    assert (money["cases"], money["mean"], money["ci95"]) == (2, "250.00", ["0.00", "500.00"])
    assert (cost["mean"], cost["ci95"]) == ("0.05", ["0.05", "0.05"])
    assert money["method"] == "bootstrap"
    assert money["enough"] is False
    assert "too small" in money["warning"]
    again = (await collections.get("/api/v1/strategies/standard/results/amounts")).json()
    assert again["arms"] == [arm]  # seeded: the same answer every time


async def test_the_html_report_is_self_contained_with_its_charts_and_warnings(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    await two_cases(collections, monitoring)
    answer = await collections.get("/api/v1/strategies/standard/results/report")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    html = answer.text
    assert html.count("<svg") == 4  # cure, roll-forward, recovered, cost
    assert not re.search(r"(src|href)=|url\(|@import|https?://(?!www\.w3\.org/2000/svg)", html)
    assert "too small a sample" in html
    missing = await collections.get("/api/v1/strategies/nope/results/report")
    assert missing.status_code == 404
