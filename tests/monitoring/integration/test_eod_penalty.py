"""Penalty interest accrued by end of day: the cost cap binding and not, grace days, rounding."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from factories import make_registration
from monitoring.domain.penalty import daily_penalty
from monitoring.settings import MonitoringSettings
from postloan_testing.plugin import NatsUnderTest
from principals import PRINCIPAL_SECRET
from shared.db import Database

D = date.fromisoformat


@pytest.fixture
def monitoring_settings(database_url: str, nats_server: NatsUnderTest) -> MonitoringSettings:
    return MonitoringSettings(
        principal_secret=SecretStr(PRINCIPAL_SECRET),
        database_url=database_url,
        nats_url=nats_server.url,
        relay_enabled=False,
    )


@pytest.fixture
async def db(
    monitoring: httpx.AsyncClient, monitoring_settings: MonitoringSettings
) -> AsyncIterator[Database]:
    database = Database(monitoring_settings.database_url, pool_size=2)
    async with database.unit_of_work() as s:
        await s.execute(
            sa.text(
                """INSERT INTO product (product_id, name, currency, penalty_multiplier,
                                       cost_cap_apr, grace_days, waterfall, jurisdiction, version)
                   VALUES ('grace3', 'Three days of grace', 'CNY', 1.5, 0.24, 3,
                           ARRAY['penalty','fees','interest','principal'], 'cn', 1),
                          ('flat', 'Penalty at the contract rate', 'CNY', 1.0, 0.50, 0,
                           ARRAY['penalty','fees','interest','principal'], 'cn', 1)"""
            )
        )
    yield database
    await database.dispose()


async def register(client: httpx.AsyncClient, loan_id: str, **overrides: Any) -> None:
    body = make_registration(
        loan_id=loan_id, borrower_id=f"B-{loan_id}", first_due_on="2026-01-20", **overrides
    )
    response = await client.post("/api/v1/loans", json=body)
    assert response.status_code == 201, response.text


async def close_days(client: httpx.AsyncClient, through: date) -> Decimal:
    """Close every date up to ``through``; return the penalty the runs reported."""
    accrued = Decimal("0.00")
    today = D((await client.get("/api/v1/business-date")).json()["business_date"])
    while today <= through:
        started = await client.post("/api/v1/eod", json={"as_of": today.isoformat()})
        run_id = started.json()["run_id"]
        while (run := (await client.get(f"/api/v1/eod/{run_id}")).json())["status"] == "running":
            await asyncio.sleep(0.01)
        assert run["status"] == "completed", run
        accrued += Decimal(run["summary"]["penalty_accrued"])
        today += timedelta(days=1)
    return accrued


async def penalties(db: Database) -> dict[tuple[str, int], Decimal]:
    async with db.unit_of_work() as s:
        rows = await s.execute(
            sa.text("SELECT loan_id, seq, penalty FROM instalment WHERE penalty > 0")
        )
        return {(loan_id, seq): Decimal(p) for loan_id, seq, p in rows}


async def test_penalty_accrues_daily_on_overdue_principal_within_the_cost_cap(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    await register(monitoring, "CAPPED")  # 12%: 1.5 × 12% = 18% > 24% − 12%: 12% applies
    await register(monitoring, "UNDER", annual_rate="0.06", product="grace3")  # 9% < 18%
    await register(monitoring, "ABOVE", annual_rate="0.30")  # the contract alone passes the cap
    await register(monitoring, "PART")
    await close_days(monitoring, D("2026-01-19"))
    async with db.unit_of_work() as s:  # PART pays 500.00 of its 946.19 principal
        await s.execute(
            sa.text("UPDATE instalment SET paid_principal = 500.00 WHERE loan_id = 'PART'")
        )

    reported = await close_days(monitoring, D("2026-01-26"))

    assert await penalties(db) == {
        ("CAPPED", 1): Decimal("1.86"),  # 946.19 × 12% / 365 = 0.311 → 0.31, 21st–26th
        ("UNDER", 1): Decimal("0.72"),  # 972.80 × 9% / 365 = 0.240 → 0.24, 24th–26th (grace)
        ("PART", 1): Decimal("0.90"),  # 446.19 × 12% / 365 = 0.147 → 0.15, 21st–26th
    }
    assert reported == Decimal("3.48")
    one_day = daily_penalty(
        overdue_principal=Decimal("946.19"),
        annual_rate=Decimal("0.12"),
        multiplier=Decimal("1.5"),
        cost_cap_apr=Decimal("0.24"),
    )
    assert one_day * 6 == Decimal("1.86")


async def test_penalty_stops_when_the_principal_is_paid_and_covers_every_late_instalment(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    await register(monitoring, "L-1")
    await register(monitoring, "L-2")
    await close_days(monitoring, D("2026-01-21"))
    async with db.unit_of_work() as s:
        await s.execute(
            sa.text("UPDATE instalment SET paid_principal = principal WHERE loan_id = 'L-1'")
        )
    await close_days(monitoring, D("2026-02-21"))

    assert await penalties(db) == {
        ("L-1", 1): Decimal("0.31"),  # the 21st only
        ("L-2", 1): Decimal("9.92"),  # 32 days × 0.31
        ("L-2", 2): Decimal("0.31"),  # 955.65 × 12% / 365 = 0.314 → 0.31, the 21st of Feb
    }


async def test_a_day_of_penalty_rounds_half_up_to_the_cent(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    schedule = [{"seq": 1, "due_on": "2026-01-20", "principal": "365.00", "interest": "3.80"}]
    await register(
        monitoring,
        "HALF",
        product="flat",
        principal="365.00",
        annual_rate="0.125",
        term_months=1,
        schedule=schedule,
    )
    await close_days(monitoring, D("2026-01-21"))

    assert await penalties(db) == {("HALF", 1): Decimal("0.13")}  # 0.125 exactly → 0.13
