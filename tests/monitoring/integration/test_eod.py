"""End of day over several dates: DPD, buckets, transitions, idempotency, resumption."""

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
from monitoring.domain.buckets import DEFAULT_BUCKETS, parse_buckets
from monitoring.main import create_app
from monitoring.service_layer.eod import EodConfig, StopAt, request_eod, run_eod
from monitoring.settings import MonitoringSettings
from postloan_testing.plugin import NatsUnderTest
from postloan_testing.servers import running
from principals import PRINCIPAL_SECRET, signed
from shared.db import Database
from shared.events import CloudEvent, DelinquencyChanged

D = date.fromisoformat
CHANGED = "postloan.monitoring.delinquency.changed"


@pytest.fixture
def monitoring_settings(database_url: str, nats_server: NatsUnderTest) -> MonitoringSettings:
    """No relay: what end of day emits stays in the outbox, to be counted exactly."""
    return MonitoringSettings(
        principal_secret=SecretStr(PRINCIPAL_SECRET),
        database_url=database_url,
        nats_url=nats_server.url,
        relay_enabled=False,
        eod_chunk_size=2,
    )


@pytest.fixture
async def db(
    monitoring: httpx.AsyncClient, monitoring_settings: MonitoringSettings
) -> AsyncIterator[Database]:
    database = Database(monitoring_settings.database_url, pool_size=2)
    yield database
    await database.dispose()


async def register(
    client: httpx.AsyncClient, loan_id: str, *, first_due_on: str = "2026-01-20", **overrides: Any
) -> None:
    body = make_registration(
        loan_id=loan_id, borrower_id=f"B-{loan_id}", first_due_on=first_due_on, **overrides
    )
    response = await client.post("/api/v1/loans", json=body)
    assert response.status_code == 201, response.text


async def pay(db: Database, loan_id: str, seq: int, *, principal: str | None = None) -> None:
    """Mark an instalment paid: in full, or its interest and ``principal`` of its principal."""
    async with db.unit_of_work() as s:
        await s.execute(
            sa.text(
                """UPDATE instalment SET paid_interest = interest, paid_fees = fees,
                          paid_penalty = penalty,
                          paid_principal = COALESCE(CAST(:principal AS numeric), principal)
                   WHERE loan_id = :loan_id AND seq = :seq"""
            ),
            {"loan_id": loan_id, "seq": seq, "principal": principal},
        )


async def close_day(client: httpx.AsyncClient, as_of: date) -> dict[str, Any]:
    """Run end of day for ``as_of`` and wait for it to complete."""
    started = await client.post("/api/v1/eod", json={"as_of": as_of.isoformat()})
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    for _ in range(1000):
        run = (await client.get(f"/api/v1/eod/{run_id}")).json()
        if run["status"] != "running":
            assert run["status"] == "completed", run
            return dict(run)
        await asyncio.sleep(0.01)
    raise AssertionError(f"end of day {as_of} did not complete")


async def close_days(client: httpx.AsyncClient, through: date) -> list[dict[str, Any]]:
    runs = []
    today = D((await client.get("/api/v1/business-date")).json()["business_date"])
    while today <= through:
        runs.append(await close_day(client, today))
        today += timedelta(days=1)
    return runs


async def state(client: httpx.AsyncClient, loan_id: str) -> tuple[int, str, str]:
    loan = (await client.get(f"/api/v1/loans/{loan_id}")).json()
    return loan["dpd"], loan["bucket"], loan["status"]


async def transitions(db: Database) -> list[tuple[str, str, str, str, int]]:
    """The delinquency events in the outbox: (date, loan, bucket before, bucket, dpd)."""
    async with db.unit_of_work() as s:
        rows = await s.execute(
            sa.text("SELECT body FROM outbox WHERE subject = :subject ORDER BY id"),
            {"subject": CHANGED},
        )
        events = [CloudEvent.model_validate_json(body) for (body,) in rows]
    out = []
    for event in events:
        p = event.payload()
        assert isinstance(p, DelinquencyChanged)
        assert event.subject == p.loan_id
        out.append((p.business_date.isoformat(), p.loan_id, p.bucket_before, p.bucket, p.dpd))
    return out


async def table_state(db: Database) -> list[Any]:
    async with db.unit_of_work() as s:
        result = []
        for query in (
            "SELECT loan_id, dpd, bucket, status FROM loan ORDER BY 1",
            "SELECT loan_id, seq, penalty, paid_principal FROM instalment ORDER BY 1, 2",
            "SELECT * FROM delinquency_snapshot ORDER BY as_of, loan_id",
            "SELECT event_id FROM outbox ORDER BY id",
            "SELECT business_date FROM business_date",
            "SELECT run_id, status, step, transitions, finished_at FROM eod_run ORDER BY as_of",
        ):
            result.append([tuple(r) for r in await s.execute(sa.text(query))])
        return result


async def test_dpd_and_buckets_follow_misses_partial_payments_cures_and_relapses(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    for loan_id in ("MISS", "PAID", "PART", "CURE"):
        await register(monitoring, loan_id)
    await close_days(monitoring, D("2026-01-19"))
    await pay(db, "PAID", 1)
    await pay(db, "PART", 1, principal="500.00")
    due_day = await close_day(monitoring, D("2026-01-20"))
    assert due_day["transitions"] == 3
    # Unpaid at the close of its due date: 1 day past due the morning after.
    assert await state(monitoring, "MISS") == (1, "M1", "delinquent")
    assert await state(monitoring, "PART") == (1, "M1", "delinquent")
    assert await state(monitoring, "PAID") == (0, "C", "active")

    day_after = await close_day(monitoring, D("2026-01-21"))
    assert day_after["transitions"] == 0
    assert await state(monitoring, "MISS") == (2, "M1", "delinquent")

    await close_days(monitoring, D("2026-01-23"))
    await pay(db, "CURE", 1)
    await close_day(monitoring, D("2026-01-24"))
    assert await state(monitoring, "CURE") == (0, "C", "active")
    assert await state(monitoring, "MISS") == (5, "M1", "delinquent")

    await close_days(monitoring, D("2026-02-18"))
    assert await state(monitoring, "MISS") == (30, "M1", "delinquent")
    await pay(db, "PAID", 2)
    await close_day(monitoring, D("2026-02-19"))
    assert await state(monitoring, "MISS") == (31, "M2", "delinquent")
    assert await state(monitoring, "PART") == (31, "M2", "delinquent")  # counted from seq 1
    assert await state(monitoring, "CURE") == (0, "C", "active")
    await close_day(monitoring, D("2026-02-20"))
    assert await state(monitoring, "CURE") == (1, "M1", "delinquent")  # relapse on seq 2
    assert await state(monitoring, "PAID") == (0, "C", "active")

    # Each event is dated by the business date its DPD holds on: the day after the one closed.
    assert await transitions(db) == [
        ("2026-01-21", "CURE", "C", "M1", 1),
        ("2026-01-21", "MISS", "C", "M1", 1),
        ("2026-01-21", "PART", "C", "M1", 1),
        ("2026-01-25", "CURE", "M1", "C", 0),
        ("2026-02-20", "MISS", "M1", "M2", 31),
        ("2026-02-20", "PART", "M1", "M2", 31),
        ("2026-02-21", "CURE", "C", "M1", 1),
    ]
    business_date = (await monitoring.get("/api/v1/business-date")).json()
    assert business_date == {"business_date": "2026-02-21"}


async def test_a_loan_unpaid_at_the_close_of_its_due_date_is_1_dpd_in_m1_the_morning_after(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    await register(monitoring, "LATE")
    await register(monitoring, "ON-TIME")
    await close_days(monitoring, D("2026-01-19"))
    await pay(db, "ON-TIME", 1)  # on the due date itself

    await close_day(monitoring, D("2026-01-20"))

    today = (await monitoring.get("/api/v1/business-date")).json()
    assert today == {"business_date": "2026-01-21"}
    late = (await monitoring.get("/api/v1/loans/LATE")).json()
    assert (late["dpd"], late["bucket"], late["status"]) == (1, "M1", "delinquent")
    assert late["schedule"][0]["status"] == "overdue"
    # Its first day of penalty is 2026-01-21 itself, accrued when that day closes.
    assert late["outstanding"]["penalty"] == "0.00"
    assert await state(monitoring, "ON-TIME") == (0, "C", "active")
    assert await transitions(db) == [("2026-01-21", "LATE", "C", "M1", 1)]

    await close_day(monitoring, D("2026-01-21"))
    late = (await monitoring.get("/api/v1/loans/LATE")).json()
    assert (late["dpd"], late["outstanding"]["penalty"]) == (2, "0.31")  # one day on 946.19


async def test_a_completed_run_reports_its_summary(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    for loan_id in ("A", "B", "C"):
        await register(monitoring, loan_id)
    await close_days(monitoring, D("2026-01-20"))  # B and C move to M1 here
    await pay(db, "A", 1)
    run = await close_day(monitoring, D("2026-01-21"))
    assert (run["loans_total"], run["loans_done"], run["progress"]) == (3, 3, 1.0)
    assert (run["step"], run["transitions"]) == ("done", 1)  # A back to C
    summary = run["summary"]
    assert [(b["bucket"], b["count"]) for b in summary["buckets"]] == [
        ("C", 1),
        ("M1", 2),
        ("M2", 0),
        ("M3", 0),
        ("M4", 0),
        ("M5", 0),
        ("M6", 0),
        ("M7+", 0),
    ]
    assert summary["buckets"][0]["outstanding"] == "11053.81"  # 12,000.00 − 946.19
    assert summary["outstanding"] == "35053.81"
    assert summary["penalty_accrued"] == "0.62"  # two loans, one day on 946.19 at 12%
    assert run["finished_at"] is not None


async def test_closing_a_finished_date_again_changes_and_emits_nothing(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    await register(monitoring, "L-1")
    await close_days(monitoring, D("2026-01-21"))
    before = await table_state(db)
    first = (await monitoring.get("/api/v1/eod/" + before[-1][-1][0])).json()

    again = await monitoring.post("/api/v1/eod", json={"as_of": "2026-01-21"})

    assert again.status_code == 200
    assert again.json()["run_id"] == first["run_id"]
    assert again.json()["status"] == "completed"
    await asyncio.sleep(0.2)
    assert await table_state(db) == before


async def test_end_of_day_runs_only_for_the_business_date(monitoring: httpx.AsyncClient) -> None:
    none_yet = await monitoring.get("/api/v1/business-date")
    assert none_yet.status_code == 404
    assert none_yet.headers["content-type"] == "application/problem+json"
    early = await monitoring.post("/api/v1/eod", json={"as_of": "2026-01-15"})
    assert early.status_code == 409

    await register(monitoring, "L-1")
    assert (await monitoring.get("/api/v1/business-date")).json() == {"business_date": "2026-01-15"}
    for wrong in ("2026-01-14", "2026-01-16"):
        response = await monitoring.post("/api/v1/eod", json={"as_of": wrong})
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["business_date"] == "2026-01-15"
    malformed = await monitoring.post("/api/v1/eod", json={"as_of": "2026-02-30"})
    assert malformed.status_code == 422
    unknown = await monitoring.get("/api/v1/eod/no-such-run")
    assert unknown.status_code == 404


#: A and C fell due on 2026-01-20 (M1 since its close, a day of penalty in the run for
#: 2026-01-21); B falls due on 2026-01-21 (M1 by that run, no penalty yet).
RESUMED_PENALTIES = {"A": Decimal("0.31"), "B": Decimal("0.00"), "C": Decimal("0.31")}


async def register_for_resumption(client: httpx.AsyncClient) -> None:
    for loan_id in ("A", "B", "C"):
        await register(
            client, loan_id, first_due_on="2026-01-21" if loan_id == "B" else "2026-01-20"
        )


async def test_a_run_stopped_after_a_step_resumes_there_and_does_nothing_twice(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    await register_for_resumption(monitoring)
    await close_days(monitoring, D("2026-01-20"))
    config = EodConfig(scale=parse_buckets(DEFAULT_BUCKETS), chunk_size=2)
    run_id = (await request_eod(db, D("2026-01-21"))).run.run_id

    stopped = await run_eod(db, run_id, config, stop=StopAt("loans"))  # as if killed here

    assert stopped is not None
    assert (stopped.status, stopped.step, stopped.transitions) == ("running", "rules", 1)
    assert (await monitoring.get("/api/v1/business-date")).json()["business_date"] == "2026-01-21"
    resumed = await monitoring.post("/api/v1/eod", json={"as_of": "2026-01-21"})
    assert resumed.status_code == 202
    assert resumed.json()["run_id"] == run_id
    done = await _wait(monitoring, run_id)
    assert (done["transitions"], done["summary"]["penalty_accrued"]) == (1, "0.62")
    assert await _penalties(db) == RESUMED_PENALTIES
    assert len(await transitions(db)) == 3  # A and C on 2026-01-20, B on 2026-01-21
    assert await _snapshots(db) == 3
    assert (await monitoring.get("/api/v1/business-date")).json()["business_date"] == "2026-01-22"


async def test_a_run_stopped_inside_a_step_resumes_at_the_loan_it_reached(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    await register_for_resumption(monitoring)
    await close_days(monitoring, D("2026-01-20"))
    config = EodConfig(scale=parse_buckets(DEFAULT_BUCKETS), chunk_size=1)
    run_id = (await request_eod(db, D("2026-01-21"))).run.run_id

    stopped = await run_eod(db, run_id, config, stop=StopAt("loans", chunks=2))

    assert stopped is not None
    assert (stopped.step, stopped.cursor, stopped.transitions) == ("loans", "B", 1)
    assert (stopped.loans_done, stopped.penalty) == (2, Decimal("0.31"))
    progress = (await monitoring.get(f"/api/v1/eod/{run_id}")).json()
    assert (progress["status"], progress["loans_done"], progress["progress"]) == (
        "running",
        2,
        0.6667,
    )
    finished = await run_eod(db, run_id, config)

    assert finished is not None
    assert (finished.status, finished.transitions) == ("completed", 1)
    assert await _penalties(db) == RESUMED_PENALTIES
    assert [t[1] for t in await transitions(db)] == ["A", "C", "B"]
    assert await _snapshots(db) == 3


async def test_a_run_left_running_by_a_stopped_process_resumes_at_start_up(
    monitoring: httpx.AsyncClient, db: Database, monitoring_settings: MonitoringSettings
) -> None:
    await register(monitoring, "A")
    await close_days(monitoring, D("2026-01-20"))
    config = EodConfig(scale=parse_buckets(DEFAULT_BUCKETS))
    run_id = (await request_eod(db, D("2026-01-21"))).run.run_id
    await run_eod(db, run_id, config, stop=StopAt("loans", chunks=1))

    async with running(create_app(monitoring_settings), auth=signed()) as restarted:
        done = await _wait(restarted, run_id)

    assert done["transitions"] == 0  # A moved to M1 on 2026-01-20; this day adds penalty
    assert await _penalties(db) == {"A": Decimal("0.31")}
    assert (await monitoring.get("/api/v1/business-date")).json()["business_date"] == "2026-01-22"


async def test_buckets_follow_the_configured_scale(
    database_url: str, nats_server: NatsUnderTest
) -> None:
    settings = MonitoringSettings(
        principal_secret=SecretStr(PRINCIPAL_SECRET),
        database_url=database_url,
        nats_url=nats_server.url,
        relay_enabled=False,
        buckets="C:0,EARLY:3,LATE",
    )
    async with running(create_app(settings), auth=signed()) as client:
        await register(client, "A")
        await close_days(client, D("2026-01-22"))
        assert await state(client, "A") == (3, "EARLY", "delinquent")
        await close_day(client, D("2026-01-23"))
        assert await state(client, "A") == (4, "LATE", "delinquent")


async def _wait(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    for _ in range(1000):
        run = (await client.get(f"/api/v1/eod/{run_id}")).json()
        if run["status"] == "completed":
            return dict(run)
        await asyncio.sleep(0.01)
    raise AssertionError(f"run {run_id} did not complete")


async def _penalties(db: Database) -> dict[str, Decimal]:
    async with db.unit_of_work() as s:
        rows = await s.execute(
            sa.text("SELECT loan_id, sum(penalty) FROM instalment GROUP BY 1 ORDER BY 1")
        )
        return {loan_id: Decimal(total) for loan_id, total in rows}


async def _snapshots(db: Database) -> int:
    async with db.unit_of_work() as s:
        query = sa.text("SELECT count(*) FROM delinquency_snapshot WHERE as_of = '2026-01-21'")
        return int((await s.execute(query)).scalar_one())
