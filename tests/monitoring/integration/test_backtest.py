"""A back-test over stored history returns the alerts live evaluation raised, and raises none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from factories import make_registration
from monitoring.service_layer.rule_evaluation import evaluate_date_rules, evaluate_payment
from monitoring.settings import MonitoringSettings
from shared.db import Database

D = date.fromisoformat


@pytest.fixture
async def db(
    monitoring: httpx.AsyncClient, monitoring_settings: MonitoringSettings
) -> AsyncIterator[Database]:
    database = Database(monitoring_settings.database_url, pool_size=2)
    yield database
    await database.dispose()


async def register(client: httpx.AsyncClient, *loan_ids: str) -> None:
    for loan_id in loan_ids:
        body = make_registration(loan_id=loan_id, borrower_id=f"B-{loan_id}")
        response = await client.post("/api/v1/loans", json=body)
        assert response.status_code == 201, response.text


async def pay(db: Database, loan_id: str, amount: str, *, on: date, seq: int) -> str:
    """Book a payment on one instalment's principal, as the ledger records it."""
    payment_id = f"P-{loan_id}-{on}"
    params = {"p": payment_id, "l": loan_id, "a": Decimal(amount), "s": seq}
    async with db.unit_of_work() as s:
        await s.execute(
            sa.text(
                """INSERT INTO payment (payment_id, loan_id, amount, currency, paid_at, channel,
                                        booked_on, unapplied, status, fingerprint)
                   VALUES (:p, :l, :a, 'CNY', :t, 'test', :d, 0, 'applied', :p)"""
            ),
            params | {"d": on, "t": datetime.combine(on, time(12), tzinfo=UTC)},
        )
        await s.execute(
            sa.text(
                """INSERT INTO allocation (payment_id, seq, loan_id, penalty, fees, interest,
                                           principal) VALUES (:p, :s, :l, 0, 0, 0, :a)"""
            ),
            params,
        )
        await s.execute(
            sa.text(
                """UPDATE instalment SET paid_principal = paid_principal + :a
                   WHERE loan_id = :l AND seq = :s"""
            ),
            params,
        )
    return payment_id


async def end_of_day(db: Database, on: date) -> int:
    """The day's snapshot of the open loans, then the date rules, as end of day runs them."""
    async with db.unit_of_work() as s:
        await s.execute(
            sa.text(
                """INSERT INTO delinquency_snapshot
                   SELECT CAST(:d AS date), loan_id, product, disbursed_on,
                          GREATEST(0, CAST(:d AS date) - first_due_on), 'C', status,
                          principal, principal
                   FROM loan WHERE status IN ('active', 'delinquent')"""
            ),
            {"d": on},
        )
        return await evaluate_date_rules(s, on)


def days(first: str, last: str) -> list[date]:
    start, end = D(first), D(last)
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


async def raised(client: httpx.AsyncClient, rule: str) -> list[dict[str, Any]]:
    items = (await client.get("/api/v1/alerts", params={"rule": rule, "limit": 500})).json()
    return sorted(
        ({k: a[k] for k in ("loan_id", "raised_on", "evidence")} for a in items["items"]),
        key=lambda a: (a["loan_id"], a["raised_on"]),
    )


async def backtest(
    client: httpx.AsyncClient, rule: str, first: str, last: str, version: int = 1
) -> list[dict[str, Any]]:
    response = await client.post(
        f"/api/v1/rules/{rule}/versions/{version}/backtest", json={"from": first, "to": last}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["rule"], body["version"], body["from"], body["to"]) == (
        rule,
        version,
        first,
        last,
    )
    assert body["total"] == len(body["items"])
    return sorted(body["items"], key=lambda a: (a["loan_id"], a["raised_on"]))


async def alert_count(client: httpx.AsyncClient) -> int:
    return len((await client.get("/api/v1/alerts", params={"limit": 500})).json()["items"])


async def test_end_of_day_rules_back_test_to_the_alerts_raised_day_by_day(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    await register(monitoring, "L-1", "L-2", "L-3", "L-4")
    payments = {
        D("2026-02-14"): [("L-2", "1066.19", 1)],
        D("2026-02-15"): [("L-1", "600.00", 1)],  # part paid at due
        D("2026-02-16"): [("L-4", "500.00", 1)],  # late and partial
        D("2026-02-25"): [("L-4", "566.19", 1)],  # paid up after the first-payment check
        D("2026-03-01"): [("L-1", "466.19", 1)],
        D("2026-03-15"): [("L-2", "300.00", 2)],  # part paid at the second due date
    }
    for day in days("2026-02-10", "2026-03-20"):
        for loan_id, amount, seq in payments.get(day, []):
            await pay(db, loan_id, amount, on=day, seq=seq)
        await end_of_day(db, day)

    partial = await raised(monitoring, "partial_payment_at_due")
    default = await raised(monitoring, "first_payment_default")
    assert [(a["loan_id"], a["raised_on"]) for a in partial] == [
        ("L-1", "2026-02-15"),
        ("L-2", "2026-03-15"),
    ]
    assert [(a["loan_id"], a["raised_on"]) for a in default] == [  # 7 DPD on the 22nd
        ("L-1", "2026-02-21"),
        ("L-3", "2026-02-21"),
        ("L-4", "2026-02-21"),
    ]
    assert await backtest(monitoring, "partial_payment_at_due", "2026-02-10", "2026-03-20") == (
        partial
    )
    assert await backtest(monitoring, "first_payment_default", "2026-02-10", "2026-03-20") == (
        default
    )
    assert await backtest(monitoring, "first_payment_default", "2026-02-22", "2026-03-20") == []


async def test_a_new_version_is_back_tested_before_it_is_enabled_and_raises_nothing(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    await register(monitoring, "L-1", "L-2")
    await pay(db, "L-2", "1066.19", on=D("2026-02-15"), seq=1)
    for day in days("2026-02-15", "2026-02-28"):
        await end_of_day(db, day)
    before = await alert_count(monitoring)
    created = await monitoring.post(
        "/api/v1/rules/first_payment_default/versions", json={"params": {"days_after_due": 3}}
    )
    assert created.json()["enabled"] is False

    hits = await backtest(monitoring, "first_payment_default", "2026-02-15", "2026-02-28", 2)
    assert [(h["loan_id"], h["raised_on"]) for h in hits] == [("L-1", "2026-02-17")]
    assert hits[0]["evidence"]["days_after_due"] == 3
    assert await alert_count(monitoring) == before


async def test_shrinking_repayments_back_test_to_the_alerts_raised_on_each_payment(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    await register(monitoring, "L-5", "L-6", "L-7")
    history = {
        "L-5": ["1066.19", "800.00", "450.00"],  # fires on the third payment
        "L-6": ["1066.19", "700.00", "600.00"],  # control: the last is 56% of due
        "L-7": ["1066.19", "500.00", "400.00", "300.00"],  # fires once, on the third
    }
    for month in range(4):
        day = date(2026, 2 + month, 15)
        for loan_id, amounts in history.items():
            if month < len(amounts):
                payment_id = await pay(db, loan_id, amounts[month], on=day, seq=month + 1)
                async with db.unit_of_work() as s:
                    await evaluate_payment(s, payment_id)

    live = await raised(monitoring, "shrinking_repayments")
    assert [(a["loan_id"], a["raised_on"]) for a in live] == [
        ("L-5", "2026-04-15"),
        ("L-7", "2026-04-15"),
    ]
    assert live[0]["evidence"]["amounts"] == ["1066.19", "800.00", "450.00"]
    assert live[0]["evidence"]["last_pct_of_due"] == "42.21"
    assert await backtest(monitoring, "shrinking_repayments", "2026-02-01", "2026-05-31") == live
    assert await backtest(monitoring, "shrinking_repayments", "2026-05-01", "2026-05-31") == [
        {
            "loan_id": "L-7",
            "raised_on": "2026-05-15",
            "evidence": {
                "payment_ids": ["P-L-7-2026-03-15", "P-L-7-2026-04-15", "P-L-7-2026-05-15"],
                "amounts": ["500.00", "400.00", "300.00"],
                "amount_due": "1066.19",
                "last_pct_of_due": "28.14",
                "below_due_pct": 50,
            },
        }
    ]


async def test_bureau_rules_back_test_to_the_alerts_raised_on_each_report(
    monitoring: httpx.AsyncClient,
) -> None:
    await register(monitoring, "L-8", "L-9")
    reports = [
        ("B-L-8", "2026-01-20", 700, 0),
        ("B-L-9", "2026-01-20", 700, 0),
        ("B-L-8", "2026-02-20", 640, 0),  # a drop of 60
        ("B-L-9", "2026-02-20", 690, 0),
        ("B-L-8", "2026-03-20", 560, 0),  # another drop: the alert is still open
        ("B-L-9", "2026-03-20", 690, 1),  # delinquent elsewhere
    ]
    for borrower, day, score, delinquent in reports:
        response = await monitoring.post(
            "/api/v1/bureau-reports",
            json={
                "borrower_id": borrower,
                "reported_at": f"{day}T09:00:00+08:00",
                "score": score,
                "inquiries_30d": 1,
                "open_loans": 2,
                "total_debt": "25000.00",
                "delinquent_accounts": delinquent,
            },
        )
        assert response.status_code == 201, response.text

    for rule, expected in (
        ("bureau_score_drop", [("L-8", "2026-02-20")]),
        ("delinquency_elsewhere", [("L-9", "2026-03-20")]),
        ("multi_lending", []),
    ):
        live = await raised(monitoring, rule)
        assert [(a["loan_id"], a["raised_on"]) for a in live] == expected
        assert await backtest(monitoring, rule, "2026-01-01", "2026-03-31") == live


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("contact_lost/versions/1", {"from": "2026-01-01", "to": "2026-01-31"}, 422),
        ("broken_promise/versions/1", {"from": "2026-01-01", "to": "2026-01-31"}, 422),
        ("first_payment_default/versions/1", {"from": "2026-02-01", "to": "2026-01-31"}, 422),
        ("first_payment_default/versions/1", {"from": "2025-01-01", "to": "2026-01-31"}, 422),
        ("first_payment_default/versions/1", {"to": "2026-01-31"}, 422),
        ("first_payment_default/versions/1", {"from": "2026-02-30", "to": "2026-03-01"}, 422),
        (
            "first_payment_default/versions/1",
            {"from": "2026-01-01", "to": "2026-01-31", "x": 1},
            422,
        ),
        ("first_payment_default/versions/7", {"from": "2026-01-01", "to": "2026-01-31"}, 404),
        ("no_such_rule/versions/1", {"from": "2026-01-01", "to": "2026-01-31"}, 404),
    ],
)
async def test_a_bad_back_test_is_a_4xx_problem_and_changes_nothing(
    monitoring: httpx.AsyncClient, path: str, body: dict[str, Any], status: int
) -> None:
    await register(monitoring, "L-1")
    response = await monitoring.post(f"/api/v1/rules/{path}/backtest", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await alert_count(monitoring) == 0
