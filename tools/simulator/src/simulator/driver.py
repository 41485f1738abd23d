"""Drives a plan through the platform's public HTTP API (the gateway), day by day.

For each day: the day's registrations (``POST /api/v1/loans``), then its payments
(``POST /api/v1/payments``) and bureau reports (``POST /api/v1/bureau-reports``), a few requests
at a time, then end of day (``POST /api/v1/eod``) awaited through ``GET /api/v1/eod/{run_id}``.
Every call is idempotent on the platform side, so a run that stopped half-way can be run again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import date
from typing import Any

import httpx

from simulator.plan import Day, Plan

Progress = Callable[[int, int], None]
CONCURRENCY = 16
EOD_POLL_S = 0.1
EOD_TIMEOUT_S = 600.0


class SimulationError(RuntimeError):
    """The platform refused a call the plan needs; ``status`` is its HTTP status, if any."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


async def login(client: httpx.AsyncClient, username: str, password: str) -> str:
    """A bearer token from ``POST /api/v1/auth/token`` (OAuth2 password grant)."""
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )
    _check(response, "log in")
    token: str = response.json()["access_token"]
    return token


class Driver:
    """Runs a plan against a client whose base URL is the gateway (or a service, in tests)."""

    def __init__(self, client: httpx.AsyncClient, *, concurrency: int = CONCURRENCY) -> None:
        self.client = client
        self._limit = asyncio.Semaphore(concurrency)
        self.counts = {"loans": 0, "payments": 0, "bureau_reports": 0, "eod": 0}

    async def run(self, plan: Plan, progress: Progress | None = None) -> dict[str, int]:
        """Play every day of the plan from the platform's business date on."""
        today = await self.business_date()
        days = [d for d in plan.days() if today is None or d.day >= today]
        if today is not None and days and days[0].day != today:
            raise SimulationError(f"the platform's business date is {today}, before the plan")
        for n, day in enumerate(days, start=1):
            await self.play(day)
            if progress is not None:
                progress(n, len(days))
        return self.counts

    async def play(self, day: Day) -> None:
        await self._all(self._post("/api/v1/loans", r, "loans") for r in day.registrations)
        await self._all(
            [
                *(self._post("/api/v1/payments", p.body(), "payments") for p in day.payments),
                *(
                    self._post("/api/v1/bureau-reports", r.body(), "bureau_reports")
                    for r in day.reports
                ),
            ]
        )
        await self.end_of_day(day.day)

    async def business_date(self) -> date | None:
        response = await self.client.get("/api/v1/business-date")
        if response.status_code == 200 and response.json().get("business_date"):
            return date.fromisoformat(response.json()["business_date"])
        return None

    async def end_of_day(self, day: date) -> dict[str, Any]:
        """Run end of day for ``day`` and wait until it completes."""
        response = await self.client.post("/api/v1/eod", json={"as_of": day.isoformat()})
        _check(response, f"start end of day {day}")
        run: dict[str, Any] = response.json()
        deadline = asyncio.get_running_loop().time() + EOD_TIMEOUT_S
        while run["status"] == "running":
            if asyncio.get_running_loop().time() > deadline:
                raise SimulationError(f"end of day {day} still running after {EOD_TIMEOUT_S} s")
            await asyncio.sleep(EOD_POLL_S)
            polled = await self.client.get(f"/api/v1/eod/{run['run_id']}")
            _check(polled, f"read end of day {day}")
            run = polled.json()
        if run["status"] != "completed":
            raise SimulationError(f"end of day {day} {run['status']}: {run.get('error')}")
        self.counts["eod"] += 1
        return run

    async def _post(self, path: str, body: dict[str, Any], kind: str) -> None:
        async with self._limit:
            response = await self.client.post(path, json=body)
        _check(response, f"POST {path}")
        self.counts[kind] += 1

    @staticmethod
    async def _all(calls: Iterable[Awaitable[None]]) -> None:
        await asyncio.gather(*calls)


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code >= 400:
        raise SimulationError(
            f"{what}: {response.status_code} {response.text[:500]}", status=response.status_code
        )
