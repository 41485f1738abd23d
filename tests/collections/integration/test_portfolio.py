"""A constructed portfolio under one strategy: each loan gets its segment's actions on the
business days they are due, champion and challenger as each case drew, escalation on M3."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from collections_service.settings import CollectionsSettings
from postloan_testing.plugin import NatsUnderTest, eventually
from scoring_events import Monitoring
from shared.events import DelinquencyChanged, LoanAccepted, ScoreUpdated, make_event

from .conftest import NOW, published, tiers_known
from .test_cases import cases, eod

D = date(2026, 2, 16)
STRATEGY = {
    "name": "Portfolio", "products": ["default"],
    "segments": [
        {"segment": "early-high-risk", "when": {"buckets": ["M1"], "tiers": ["D", "E"]},
         "variants": [
             {"variant": "champion", "share": "0.5",
              "path": [{"day": 0, "action": "sms", "template_id": "soft"},
                       {"day": 2, "action": "agent_call", "queue": "early"}]},
             {"variant": "challenger", "share": "0.5",
              "path": [{"day": 0, "action": "voice", "template_id": "ivr"}]}]},
        {"segment": "early", "when": {"buckets": ["M1"]},
         "path": [{"day": 0, "action": "sms", "template_id": "soft"},
                  {"day": 3, "action": "email", "template_id": "second"}]},
        {"segment": "late", "when": {"min_dpd": 31},
         "path": [{"day": 0, "action": "letter", "template_id": "final"},
                  {"day": 1, "action": "field_visit", "queue": "field"}]},
    ],
    "escalation": [{"bucket": "M3", "action": "legal_review"}],
}  # fmt: skip
TIERS = {"L-HIGH1": "E", "L-HIGH2": "D", "L-LOW": "B", "L-LATE": "C"}


def loan(loan_id: str) -> LoanAccepted:
    import factories

    body = factories.make_registration(loan_id=loan_id, borrower_id=f"B-{loan_id}")
    return LoanAccepted.model_validate({**body, "first_due_on": "2026-02-15"})


def move(loan_id: str, before: str, after: str, on: date, dpd: int) -> DelinquencyChanged:
    return DelinquencyChanged(
        loan_id=loan_id, borrower_id=f"B-{loan_id}", business_date=on, dpd_before=max(dpd - 1, 0),
        dpd=dpd, bucket_before=before, bucket=after, overdue_amount=Decimal("500.00"),
    )  # fmt: skip


async def test_a_portfolio_gets_its_segments_actions_on_their_days(
    collections: httpx.AsyncClient,
    monitoring: Monitoring,
    nats_server: NatsUnderTest,
    collections_settings: CollectionsSettings,
) -> None:
    assert (await collections.put("/api/v1/strategies/p", json=STRATEGY)).status_code == 201
    assert (await collections.post("/api/v1/strategies/p/versions/1/activate")).status_code == 200
    for loan_id, tier in TIERS.items():
        await monitoring.publish(loan(loan_id))
        score = ScoreUpdated(loan_id=loan_id, pd=Decimal("0.1"), score=600, tier=tier,  # type: ignore[arg-type]
                             model_version="m", reasons=[], scored_at=NOW)  # fmt: skip
        await monitoring.publish_event(
            make_event(score, source="postloan/scoring", domain="scoring")
        )

    async def known() -> bool:
        got = [await collections.get(f"/api/v1/collections/loans/{x}") for x in TIERS]
        return all(r.status_code == 200 for r in got)

    await eventually(known)

    async def tiered() -> bool:  # the scores come on a durable of their own
        return await tiers_known(collections_settings.database_url, len(TIERS))

    await eventually(tiered)
    for loan_id in ("L-HIGH1", "L-HIGH2", "L-LOW"):
        await monitoring.publish(move(loan_id, "C", "M1", D, 1))
    await monitoring.publish(move("L-LATE", "C", "M2", D, 31))
    for day in range(1, 5):
        await monitoring.publish(eod((D + timedelta(days=day)).isoformat()))
    await monitoring.publish(move("L-LATE", "M2", "M3", D + timedelta(days=4), 35))

    async def settled() -> bool:
        found = await cases(collections)
        late = [c for c in found if c["loan_id"] == "L-LATE"]
        return len(found) == 4 and bool(late) and late[0]["bucket"] == "M3"

    await eventually(settled)
    by_loan = {c["loan_id"]: c for c in await cases(collections)}
    requested = await published(nats_server.url, "postloan.collections.contact.requested")
    actions: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in requested:
        actions[r["loan_id"]].append((r["channel"], r["template_id"]))
    for loan_id in ("L-HIGH1", "L-HIGH2"):
        strategy = by_loan[loan_id]["strategy"]
        assert strategy["segment"] == "early-high-risk"
        expected = [("sms", "soft")] if strategy["variant"] == "champion" else [("voice", "ivr")]
        assert actions[loan_id] == expected
    assert by_loan["L-LOW"]["strategy"]["segment"] == "early"
    assert actions["L-LOW"] == [("sms", "soft"), ("email", "second")]
    assert by_loan["L-LATE"]["strategy"]["segment"] == "late"
    assert actions["L-LATE"] == [("letter", "final")]
    timelines = {x: (await collections.get(f"/api/v1/cases/{c['case_id']}")).json()["timeline"]
                 for x, c in by_loan.items()}  # fmt: skip
    kinds = ("contact_decided", "step_due", "escalated")
    days = {
        x: [
            (t["business_date"], t["kind"], _what(t["detail"])) for t in lines if t["kind"] in kinds
        ]
        for x, lines in timelines.items()
    }
    assert days["L-LOW"] == [
        ("2026-02-16", "contact_decided", "sms"),
        ("2026-02-19", "contact_decided", "email"),
    ]
    assert days["L-LATE"] == [
        ("2026-02-16", "contact_decided", "letter"), ("2026-02-17", "step_due", "field_visit"),
        ("2026-02-20", "escalated", "legal_review"),
    ]  # fmt: skip
    champions = [
        x for x in ("L-HIGH1", "L-HIGH2") if by_loan[x]["strategy"]["variant"] == "champion"
    ]
    for x in champions:
        assert ("2026-02-18", "step_due", "agent_call") in days[x]


def _what(detail: dict[str, str]) -> str:
    return detail.get("action") or detail["channel"]


async def test_strategy_results_count_each_arm_and_compare_the_challenger(
    collections: httpx.AsyncClient,
    monitoring: Monitoring,
    collections_settings: CollectionsSettings,
) -> None:
    assert (await collections.put("/api/v1/strategies/p", json=STRATEGY)).status_code == 201
    assert (await collections.post("/api/v1/strategies/p/versions/1/activate")).status_code == 200
    loans = [f"L-R{i}" for i in range(8)]
    for loan_id in loans:
        await monitoring.publish(loan(loan_id))
        score = ScoreUpdated(loan_id=loan_id, pd=Decimal("0.3"), score=480, tier="E",
                             model_version="m", reasons=[], scored_at=NOW)  # fmt: skip
        await monitoring.publish_event(
            make_event(score, source="postloan/scoring", domain="scoring")
        )

    async def tiered() -> bool:
        return await tiers_known(collections_settings.database_url, len(loans))

    await eventually(tiered)
    for loan_id in loans:
        await monitoring.publish(move(loan_id, "C", "M1", D, 1))
    for loan_id in loans[:3]:
        await monitoring.publish(move(loan_id, "M1", "C", D + timedelta(days=3), 0))
    await monitoring.publish(move(loans[3], "M1", "M2", D + timedelta(days=30), 31))

    async def settled() -> bool:
        found = await cases(collections)
        return len(found) == 8 and sum(c["status"] == "closed" for c in found) == 3

    await eventually(settled)
    by_variant: dict[str, list[dict[str, object]]] = defaultdict(list)
    for case in await cases(collections):
        by_variant[case["strategy"]["variant"]].append(case)
    answer = await collections.get("/api/v1/strategies/p/results")
    assert answer.status_code == 200, answer.text
    arms = {a["variant"]: a for a in answer.json()["arms"]}
    assert set(arms) == set(by_variant)
    for variant, found in by_variant.items():
        cured = sum(c["close_reason"] == "cured" for c in found)
        arm = arms[variant]
        assert (arm["cases"], arm["cure_rate"]["successes"]) == (len(found), cured)
        assert arm["cure_rate"]["rate"] == pytest.approx(cured / len(found))
        rolled = sum(c["loan_id"] == loans[3] for c in found)
        assert arm["roll_forward_rate"]["successes"] == rolled
    assert {"champion", "challenger"} <= set(arms)  # the ids fix the draws: both arms drawn
    uplift = arms["challenger"]["cure_uplift"]
    expected = arms["challenger"]["cure_rate"]["rate"] - arms["champion"]["cure_rate"]["rate"]
    assert uplift["difference"] == pytest.approx(expected)
    assert uplift["enough"] is False  # eight cases tell nothing
    assert uplift["warning"] == "too small a sample to tell"
    assert arms["champion"]["cure_uplift"] is None
    assert (await collections.get("/api/v1/strategies/nope/results")).status_code == 404
