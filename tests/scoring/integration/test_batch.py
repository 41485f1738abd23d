"""The portfolio rescoring after each end of day, the drift check that follows it, and the
back-test of past scores once their outcomes are known."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from postloan_testing.plugin import eventually
from scoring_events import Monitoring, Trained, accepted, applied, bureau, eod

D0 = date(2026, 2, 1)
MODELS = "/api/v1/scoring/models"


async def live(scoring: httpx.AsyncClient, trained: Trained) -> str:
    await scoring.post(MODELS, json=trained.upload(trained.champion))
    await scoring.post(f"{MODELS}/{trained.champion.version}/promote")
    return trained.champion.version


async def test_end_of_day_rescores_the_portfolio_and_checks_drift(
    scoring: httpx.AsyncClient, monitoring: Monitoring, trained: Trained
) -> None:
    version = await live(scoring, trained)
    loans = [accepted(f"E-{n:02d}", disbursed_on=D0) for n in range(30)]
    await monitoring.publish(*loans)
    # Thirty loans on their first day are nothing like the development sample (loans of every
    # age): months on book and the missing bureau data drift beyond the act threshold.
    await monitoring.publish(eod(D0 + timedelta(days=40)))

    async def drift_checked() -> bool:
        return (await scoring.get(f"{MODELS}/{version}/drift")).status_code == 200

    await eventually(drift_checked, timeout=20)
    report: dict[str, Any] = (await scoring.get(f"{MODELS}/{version}/drift")).json()
    assert report["status"] == "act"
    result = report["result"]
    assert result["population"] == 30
    assert set(result["characteristics"]) == {f.name for f in trained.champion.features}
    assert result["characteristics"]["months_on_book"]["status"] == "act"
    drifted = await monitoring.events("postloan.scoring.model.drifted")
    assert drifted[-1]["model_version"] == version
    assert "months_on_book" in drifted[-1]["characteristics"]

    after_eod = (await scoring.get("/api/v1/scores/E-00")).json()
    assert after_eod["as_of"] == (D0 + timedelta(days=41)).isoformat()
    # As of the close of the business date, with what is known: the first instalment fell
    # due a month after disbursement and nothing was paid.
    first_due = date(2026, 3, 1)
    assert after_eod["features"]["dpd_now"] == float((D0 + timedelta(days=41) - first_due).days)
    tiers = (await scoring.get("/api/v1/scoring/tiers")).json()
    assert tiers["total"] == 30
    assert sum(t["count"] for t in tiers["tiers"]) == 30

    runs = (await scoring.get("/api/v1/scoring/runs")).json()["items"]
    after_close = [r for r in runs if r["as_of"] == (D0 + timedelta(days=41)).isoformat()]
    assert after_close[0]["status"] == "completed"
    assert after_close[0]["loans_done"] == 30

    again = await scoring.post(f"{MODELS}/{version}/drift")
    assert again.status_code == 201
    assert again.json()["result"]["population"] == 30


async def test_past_scores_are_back_tested_once_their_outcomes_are_known(
    scoring: httpx.AsyncClient, monitoring: Monitoring, trained: Trained
) -> None:
    version = await live(scoring, trained)
    loans = [accepted(f"K-{n:02d}", disbursed_on=D0) for n in range(20)]
    reports = [bureau(f"B-K-{n:02d}", D0, score=820 - 20 * n) for n in range(20)]
    await monitoring.publish(eod(D0 - timedelta(days=1)), *loans, *reports)

    async def all_scored() -> bool:
        return (await scoring.get("/api/v1/scores/K-19")).status_code == 200

    await eventually(all_scored)
    early = await scoring.get(
        f"{MODELS}/{version}/backtest", params={"observed_on": D0.isoformat(), "horizon_months": 2}
    )
    assert early.status_code == 409  # outcomes not known yet
    payments = []
    for loan in loans[:10]:  # the ten best bureau scores pay, the others never do
        assert loan.schedule is not None
        for line in loan.schedule[:2]:
            payments.append(
                applied(
                    loan.loan_id,
                    f"{loan.loan_id}-{line.seq}",
                    line.due_on,
                    seq=line.seq,
                    principal=line.principal,
                    interest=line.interest,
                )
            )
    await monitoring.publish(*payments, eod(D0 + timedelta(days=70)))

    async def all_applied() -> bool:  # the batch after the last end of day has run
        r = await scoring.get("/api/v1/scores/K-19")
        return bool(r.json()["checked_on"] == (D0 + timedelta(days=71)).isoformat())

    await eventually(all_applied, timeout=20)
    result = (
        await scoring.get(
            f"{MODELS}/{version}/backtest",
            params={"observed_on": D0.isoformat(), "horizon_months": 2, "dpd_threshold": 1},
        )
    ).json()
    assert (result["loans"], result["bads"]) == (20, 10)
    assert result["auc"] > 0.5  # worse bureau scores had higher PDs, and they defaulted
    assert 0 < result["ks"] <= 1
