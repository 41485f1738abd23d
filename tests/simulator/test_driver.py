"""A small simulation played over HTTP against monitoring (the endpoints that exist)."""

from __future__ import annotations

from datetime import date

import httpx

from simulator import Driver, make_plan


async def test_a_small_plan_is_played_day_by_day_with_end_of_day(
    monitoring: httpx.AsyncClient,
) -> None:
    plan = make_plan(loans=12, months=2, seed=5, start=date(2026, 1, 1))
    days_done: list[int] = []
    counts = await Driver(monitoring).run(plan, lambda done, _total: days_done.append(done))
    assert counts["loans"] == 12
    assert counts["eod"] == plan.day_count == len(days_done)
    assert counts["payments"] == sum(len(loan.payments) for loan in plan.loans)
    assert counts["bureau_reports"] == sum(len(loan.reports) for loan in plan.loans)
    business = (await monitoring.get("/api/v1/business-date")).json()
    assert business["business_date"] == plan.end.isoformat()
    loans = (await monitoring.get("/api/v1/loans", params={"limit": 100})).json()["items"]
    assert len(loans) == 12


async def test_playing_the_plan_again_changes_nothing(monitoring: httpx.AsyncClient) -> None:
    plan = make_plan(loans=3, months=1, seed=9, start=date(2026, 3, 1))
    await Driver(monitoring).run(plan)
    again = await Driver(monitoring).run(plan)
    assert again == {"loans": 0, "payments": 0, "bureau_reports": 0, "eod": 0}
