"""The model registry: uploads checked, champion/challenger in shadow, audited promotion and
rollback under live traffic."""

from __future__ import annotations

import asyncio
import copy
from datetime import date, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from postloan_testing.plugin import eventually
from principals import make_principal, signed
from scoring_events import Monitoring, Trained, accepted, bureau
from shared.db import Database

D0 = date(2026, 3, 1)
MODELS = "/api/v1/scoring/models"


def problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    return body


async def test_uploads_that_cannot_be_served_are_refused_with_what_is_wrong(
    scoring: httpx.AsyncClient, trained: Trained
) -> None:
    good = trained.upload(trained.champion)
    unknown_kind = good | {"document": good["document"] | {"kind": "neural-net"}}
    assert "neural-net" in problem(await scoring.post(MODELS, json=unknown_kind), 422)["detail"]

    foreign = copy.deepcopy(good)
    foreign["document"]["features"][0]["name"] = "MonthlyIncome"
    detail = problem(await scoring.post(MODELS, json=foreign), 422)["detail"]
    assert "MonthlyIncome" in detail

    no_reference = good | {"reference": {}}
    assert "reference" in problem(await scoring.post(MODELS, json=no_reference), 422)["detail"]
    problem(await scoring.post(MODELS, json={"document": "not an object"}), 422)
    assert (await scoring.get(MODELS)).json()["items"] == []  # nothing was stored


async def test_the_same_upload_again_is_accepted_once_and_another_under_its_version_conflicts(
    scoring: httpx.AsyncClient, trained: Trained
) -> None:
    body = trained.upload(trained.champion)
    first = await scoring.post(MODELS, json=body)
    assert first.status_code == 201
    assert first.json()["status"] == "challenger"
    assert (await scoring.post(MODELS, json=body)).status_code == 200
    other = trained.upload(trained.challenger)
    other["document"]["version"] = trained.champion.version
    problem(await scoring.post(MODELS, json=other), 409)
    assert len((await scoring.get(MODELS)).json()["items"]) == 1


async def test_a_challenger_scores_in_shadow_and_is_compared_with_the_champion(
    scoring: httpx.AsyncClient, monitoring: Monitoring, trained: Trained
) -> None:
    await scoring.post(MODELS, json=trained.upload(trained.champion))
    await scoring.post(f"{MODELS}/{trained.champion.version}/promote")
    await scoring.post(MODELS, json=trained.upload(trained.challenger))
    loans = [accepted(f"S-{n}", disbursed_on=D0) for n in range(5)]
    await monitoring.publish(
        *loans, *(bureau(f"B-S-{n}", D0, score=500 + 60 * n) for n in range(5))
    )

    async def both_scored() -> bool:
        r = await scoring.get("/api/v1/scores/S-4")
        return r.status_code == 200 and len(r.json()["challengers"]) == 1

    await eventually(both_scored)
    shadow = (await scoring.get("/api/v1/scores/S-4")).json()["challengers"][0]
    assert shadow["model_version"] == trained.challenger.version

    async def all_compared() -> bool:
        r = await scoring.get(f"{MODELS}/{trained.challenger.version}/comparison")
        return r.status_code == 200 and r.json()["loans"] == 5

    await eventually(all_compared)
    comparison = (await scoring.get(f"{MODELS}/{trained.challenger.version}/comparison")).json()
    assert comparison["champion"] == trained.champion.version
    assert sum(m["count"] for m in comparison["tier_migration"]) == 5


async def test_promotion_and_rollback_are_audited_and_take_effect_at_once(
    scoring: httpx.AsyncClient, monitoring: Monitoring, trained: Trained
) -> None:
    for model in (trained.champion, trained.challenger):
        await scoring.post(MODELS, json=trained.upload(model))
    analyst = signed(make_principal("analyst-7"))  # the signed caller is the actor
    await scoring.post(f"{MODELS}/{trained.champion.version}/promote", auth=analyst)
    await monitoring.publish(accepted("R-1", disbursed_on=D0))

    async def scored_by(version: str) -> bool:
        r = await scoring.get("/api/v1/scores/R-1")
        return r.status_code == 200 and r.json()["model_version"] == version

    await eventually(lambda: scored_by(trained.champion.version))
    promoted = await scoring.post(
        f"{MODELS}/{trained.challenger.version}/promote",
        json={"reason": "better out-of-time AUC"},
        auth=analyst,
    )
    assert promoted.json()["status"] == "champion"
    await eventually(lambda: scored_by(trained.challenger.version))

    async def announced() -> bool:  # the loan's live score is now the new champion's
        updates = await monitoring.score_updates()
        return any(u["model_version"] == trained.challenger.version for u in updates)

    await eventually(announced)
    back = await scoring.post(f"{MODELS}/rollback", json={"reason": "drift"}, auth=analyst)
    assert back.json()["version"] == trained.champion.version
    await eventually(lambda: scored_by(trained.champion.version))

    trail = (await scoring.get(f"{MODELS}/audit")).json()["items"]
    actions = [(e["action"], e["version"], e["actor"]) for e in reversed(trail)]
    assert actions == [
        ("registered", trained.champion.version, "admin"),
        ("registered", trained.challenger.version, "admin"),
        ("promoted", trained.champion.version, "analyst-7"),
        ("promoted", trained.challenger.version, "analyst-7"),
        ("rolled_back", trained.champion.version, "analyst-7"),
    ]
    assert trail[0]["reason"] == "drift"
    problem(await scoring.post(f"{MODELS}/{trained.champion.version}/promote"), 409)
    problem(await scoring.post(f"{MODELS}/no-such-model/promote"), 404)


async def test_promotions_under_live_traffic_lose_no_scoring_event(
    scoring: httpx.AsyncClient,
    monitoring: Monitoring,
    trained: Trained,
    scoring_db: Database,
) -> None:
    for model in (trained.champion, trained.challenger):
        await scoring.post(MODELS, json=trained.upload(model))
    await scoring.post(f"{MODELS}/{trained.champion.version}/promote")
    loans = [accepted(f"T-{n:03d}", disbursed_on=D0) for n in range(40)]
    reports = [
        bureau(f"B-T-{n:03d}", D0 + timedelta(days=day), score=450 + (n * 37 + day * 91) % 400)
        for day in range(1, 6)
        for n in range(40)
    ]
    sent = len(loans) + len(reports)

    async def switch_models() -> None:
        for _ in range(3):
            await asyncio.sleep(0.15)
            await scoring.post(f"{MODELS}/{trained.challenger.version}/promote")
            await asyncio.sleep(0.15)
            await scoring.post(f"{MODELS}/rollback")

    await asyncio.gather(monitoring.publish(*loans, *reports), switch_models())

    async def all_consumed() -> bool:
        async with scoring_db.unit_of_work() as s:
            n = await s.scalar(sa.text("SELECT count(*) FROM inbox"))
            running = await s.scalar(
                sa.text("SELECT count(*) FROM rescore_run WHERE status = 'running'")
            )
        return bool(n == sent and running == 0)

    await eventually(all_consumed, timeout=30)
    async with scoring_db.unit_of_work() as s:
        reports_stored = await s.scalar(sa.text("SELECT count(*) FROM bureau_point"))
        scored = await s.scalar(
            sa.text("SELECT count(DISTINCT loan_id) FROM score WHERE model_version = :v"),
            {"v": trained.champion.version},
        )
    assert reports_stored == len(reports)
    assert scored == len(loans)
    # Every loan's current champion score is what the champion gives its latest features.
    for n in (0, 17, 39):
        now = (await scoring.get(f"/api/v1/scores/T-{n:03d}")).json()
        assert now["model_version"] == trained.champion.version
        assert now["features"]["bureau_score"] == float(450 + (n * 37 + 5 * 91) % 400)
        assert now["score"] == trained.champion.score(now["features"]).score
