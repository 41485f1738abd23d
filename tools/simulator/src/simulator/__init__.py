"""PostLoan's portfolio simulator: a deterministic portfolio driven through the public API.

:func:`make_plan` is the pure core (what happens on each day); :class:`Driver` plays a plan
over HTTP; :func:`seed_demo` is what ``make run`` calls to seed a demo portfolio.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import httpx

from simulator.contract import add_months
from simulator.driver import Driver, SimulationError, login
from simulator.plan import Outcome, Plan, make_plan

__all__ = ["Driver", "Outcome", "Plan", "SimulationError", "login", "make_plan", "seed_demo"]

TIMEOUT_S = 60.0


def demo_start(months: int, today: date | None = None) -> date:
    """The first of the month ``months`` months ago: the history ends about today."""
    first = (today or date.today()).replace(day=1)
    return add_months(first, -months)


async def seed_demo_async(
    gateway_url: str,
    token: str,
    *,
    loans: int = 3000,
    months: int = 6,
    seed: int = 42,
    start: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Play a demo portfolio through the gateway with a bearer ``token``; counts what was sent.

    The plan starts at the platform's business date when it has one (a re-run after an
    interruption goes on from there), else ``start`` (default :func:`demo_start`).
    """
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=gateway_url, headers=headers, timeout=TIMEOUT_S) as c:
        driver = Driver(c)
        today = await driver.business_date()
        plan = make_plan(loans=loans, months=months, seed=seed, start=start or demo_start(months))
        if today is not None and today >= plan.end:
            return driver.counts  # already played
        return await driver.run(plan, progress)


def seed_demo(
    gateway_url: str,
    token: str,
    *,
    loans: int = 3000,
    months: int = 6,
    seed: int = 42,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Seed a demo portfolio (blocking; runs its own event loop): see :func:`seed_demo_async`.

    ``progress(days_done, days_total)`` is called after each simulated day.
    """
    import asyncio

    return asyncio.run(
        seed_demo_async(
            gateway_url, token, loans=loans, months=months, seed=seed, progress=progress
        )
    )
