"""Monitoring's real events drive scoring: a loan registered, paid late and closed through end
of day is scored, rescored and announced, with the schedule monitoring resolved."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import httpx

from factories import make_registration
from postloan_testing.plugin import eventually
from scoring_events import Monitoring, trained_on_simulator

from .conftest import Platform

D0 = date(2026, 1, 15)


async def close_day(monitoring: httpx.AsyncClient, as_of: date) -> None:
    started = await monitoring.post("/api/v1/eod", json={"as_of": as_of.isoformat()})
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    for _ in range(500):
        if (await monitoring.get(f"/api/v1/eod/{run_id}")).json()["status"] == "completed":
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"end of day {as_of} did not complete")


async def test_a_loan_falling_behind_is_rescored_from_monitorings_events(
    platform: Platform,
) -> None:
    trained = trained_on_simulator()
    scoring, monitoring = platform.clients["scoring"], platform.clients["monitoring"]
    assert (
        await scoring.post("/api/v1/scoring/models", json=trained.upload(trained.champion))
    ).status_code == 201
    await scoring.post(f"/api/v1/scoring/models/{trained.champion.version}/promote")
    body = make_registration(loan_id="L-CHAIN", disbursed_on=D0.isoformat(), first_due_on=None)
    assert (await monitoring.post("/api/v1/loans", json=body)).status_code == 201

    async def scored() -> bool:
        return (await scoring.get("/api/v1/scores/L-CHAIN")).status_code == 200

    await eventually(scored, timeout=30)  # the loan's first score, on a loaded machine too
    first = (await scoring.get("/api/v1/scores/L-CHAIN")).json()
    assert first["features"]["outstanding_ratio"] == 1.0

    day = D0
    while day < D0 + timedelta(days=70):  # the first instalment (due 15 Feb) goes unpaid
        await close_day(monitoring, day)
        day += timedelta(days=1)

    async def caught_up() -> bool:  # the batch after the last end of day has run
        now = (await scoring.get("/api/v1/scores/L-CHAIN")).json()
        return bool(now["checked_on"] == day.isoformat())

    await eventually(caught_up, timeout=20)
    late = (await scoring.get("/api/v1/scores/L-CHAIN")).json()
    first_due = date(2026, 2, 15)
    # The row is as of the last day the score or tier moved, with that day's features; the
    # features of the last day are rebuilt from the history.
    scored_on = date.fromisoformat(late["as_of"])
    assert first_due < scored_on <= day
    assert late["features"]["dpd_now"] == (scored_on - first_due).days
    assert late["features"]["max_dpd_3m"] == late["features"]["dpd_now"]
    today = (await scoring.get(f"/api/v1/scores/L-CHAIN/features?as_of={day}")).json()
    assert today["features"]["dpd_now"] == (day - first_due).days
    assert late["score"] < first["score"]
    updates = await Monitoring(platform.nats_url).score_updates()
    assert [u["score"] for u in updates if u["loan_id"] == "L-CHAIN"][-1] == late["score"]
