"""Training on the platform's own history: the simulator's portfolio is fed to scoring as
monitoring's events, ``postloan-scoring train --dataset platform`` learns from the earlier
months and is validated out of time on the later ones, and ``publish`` makes it live."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from postloan_testing.plugin import eventually
from postloan_testing.servers import serving
from principals import signed
from scoring.cli import main
from scoring.domain.history import LoanHistory
from scoring.main import create_app
from scoring.service_layer.facts import business_date
from scoring.settings import ScoringSettings
from scoring_events import Monitoring, bureau, eod
from shared.db import Database
from shared.events import (
    AllocationLine,
    LoanAccepted,
    Payload,
    PaymentApplied,
    ScheduledInstalment,
)
from simulated_histories import histories_from_plan
from simulator import Plan, make_plan

ZERO = Decimal("0.00")


def loan_event(registration: dict[str, Any], history: LoanHistory) -> LoanAccepted:
    schedule = [
        ScheduledInstalment(
            seq=i.seq, due_on=i.due_on, principal=i.principal, interest=i.due - i.principal
        )
        for i in history.instalments
    ]
    return LoanAccepted.model_validate(
        registration | {"first_due_on": history.instalments[0].due_on, "schedule": schedule}
    )


def payment_events(history: LoanHistory) -> list[tuple[date, Payload]]:
    by_payment = defaultdict(list)
    for a in history.allocations:
        by_payment[a.payment_id].append(a)
    events: list[tuple[date, Payload]] = []
    for payment_id, lines in by_payment.items():
        day = lines[0].booked_on
        allocation = [
            AllocationLine(
                seq=a.seq,
                penalty=ZERO,
                fees=ZERO,
                interest=a.total - a.principal,
                principal=a.principal,
            )
            for a in lines
        ]
        amount = sum((a.total for a in lines), ZERO)
        events.append(
            (
                day,
                PaymentApplied(
                    payment_id=payment_id,
                    loan_id=history.loan_id,
                    amount=amount,
                    currency="CNY",
                    paid_at=datetime.combine(day, time(10), UTC),
                    booked_on=day,
                    allocation=allocation,
                    unapplied=ZERO,
                    outstanding_total=ZERO,
                ),
            )
        )
    return events


def by_day(plan: Plan, histories: list[LoanHistory]) -> dict[date, list[Payload]]:
    """Monitoring's events of the plan, by business day."""
    days: dict[date, list[Payload]] = defaultdict(list)
    for loan, h in zip(plan.loans, histories, strict=True):
        days[h.disbursed_on].append(loan_event(loan.registration, h))
        for day, event in payment_events(h):
            days[day].append(event)
        borrower = loan.registration["borrower"]["borrower_id"]
        for point in h.bureau:
            days[point.reported_on].append(
                bureau(
                    borrower, point.reported_on, score=point.score, inquiries=point.inquiries_30d
                )
            )
    return days


@pytest.mark.slow
async def test_a_model_trained_on_earlier_months_ranks_later_outcomes(
    scoring_settings: ScoringSettings,
    monitoring: Monitoring,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with (
        serving(create_app(scoring_settings)) as url,
        httpx.AsyncClient(base_url=url, auth=signed()) as c,
    ):
        await train_and_publish(c, url, scoring_settings, monitoring, tmp_path, capsys, monkeypatch)


async def train_and_publish(
    scoring: httpx.AsyncClient,
    url: str,
    scoring_settings: ScoringSettings,
    monitoring: Monitoring,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = make_plan(loans=400, months=20, seed=5, start=date(2024, 1, 1))
    histories = histories_from_plan(plan)
    days = by_day(plan, histories)
    day = plan.start
    while day < plan.end:  # each day's facts, then its close
        await monitoring.publish(*days.get(day, []), eod(day))
        day += timedelta(days=1)

    async def all_recorded() -> bool:
        r = await scoring.get(f"/api/v1/scoring/loans/{histories[-1].loan_id}")
        clock_ok = r.status_code == 200
        return clock_ok and (await _clock(scoring_settings)) == plan.end

    await eventually(all_recorded, timeout=120)
    args = [
        "train",
        "--dataset",
        "platform",
        "--database-url",
        scoring_settings.database_url,
        "--validation-months",
        "3",
        "--out",
        str(tmp_path),
        "--version",
        "bscore-platform-1",
    ]
    assert await asyncio.to_thread(main, args) == 0
    report = json.loads((tmp_path / "bscore-platform-1" / "report.json").read_text())
    assert report["validation"]["method"] == "out_of_time"
    auc = report["models"]["champion"]["summary"]["auc"]["mean"]
    assert auc > 0.7, report["models"]["champion"]["summary"]
    print(f"out-of-time AUC on the simulated platform: {auc:.4f}")
    assert "AUC" in capsys.readouterr().out


async def _clock(settings: ScoringSettings) -> date | None:
    db = Database(settings.database_url)
    try:
        async with db.unit_of_work() as s:
            return await business_date(s)
    finally:
        await db.dispose()
