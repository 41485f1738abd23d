"""Portfolio analytics against a small portfolio whose figures are computed by hand.

Six loans, snapshots at four dates (the month-ends are 2026-01-31, 2026-02-27 — the last
snapshot of February — and 2026-03-31; 2026-02-15 is a mid-month snapshot):

    loan vintage product principal | 01-31      | 02-15      | 02-27       | 03-31
    A    2026-01 default   1000.00 | C  0  1000 | C  0   900 | C   0   900 | (settled)
    B    2026-01 default   2000.00 | C  0  2000 | M1 5  2000 | M1  5  2000 | M2 40 2000
    C    2026-01 default   3000.00 | M1 10 3000 | M1 25 3000 | M2 37  3000 | M3 69 3000
    D    2026-01 default   4000.00 | M1 20 4000 | M2 35 4000 | C   0  3500 | C   0 3000
    E    2026-02 p2        1000.00 |            | C  0  1000 | C   0  1000 | M1 10 1000
    F    2026-02 p2        1000.00 |            | C  0  1000 | C   0  1000 | C   0  900

(bucket, DPD, outstanding principal; the outstanding total is the principal + 10.00.)
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from factories import make_registration
from monitoring.settings import MonitoringSettings
from shared.db import Database

LOANS = {  # loan: (vintage day, product, principal)
    "A": ("2026-01-10", "default", "1000.00"),
    "B": ("2026-01-10", "default", "2000.00"),
    "C": ("2026-01-10", "default", "3000.00"),
    "D": ("2026-01-10", "default", "4000.00"),
    "E": ("2026-02-05", "p2", "1000.00"),
    "F": ("2026-02-05", "p2", "1000.00"),
}
SNAPSHOTS = {  # date: {loan: (bucket, dpd, outstanding principal)}
    "2026-01-31": {"A": ("C", 0, 1000), "B": ("C", 0, 2000), "C": ("M1", 10, 3000),
                   "D": ("M1", 20, 4000)},
    "2026-02-15": {"A": ("C", 0, 900), "B": ("M1", 5, 2000), "C": ("M1", 25, 3000),
                   "D": ("M2", 35, 4000), "E": ("C", 0, 1000), "F": ("C", 0, 1000)},
    "2026-02-27": {"A": ("C", 0, 900), "B": ("M1", 5, 2000), "C": ("M2", 37, 3000),
                   "D": ("C", 0, 3500), "E": ("C", 0, 1000), "F": ("C", 0, 1000)},
    "2026-03-31": {"B": ("M2", 40, 2000), "C": ("M3", 69, 3000), "D": ("C", 0, 3000),
                   "E": ("M1", 10, 1000), "F": ("C", 0, 900)},
}  # fmt: skip
EMPTY_ROW = {"count": 0, "balance": "0.00", "count_rate": None, "balance_rate": None}


@pytest.fixture
async def portfolio(
    monitoring: httpx.AsyncClient, monitoring_settings: MonitoringSettings
) -> httpx.AsyncClient:
    db = Database(monitoring_settings.database_url, pool_size=1)
    async with db.unit_of_work() as s:
        for loan_id, (disbursed, product, principal) in LOANS.items():
            await s.execute(
                sa.text(
                    """INSERT INTO borrower (borrower_id, name, phone, time_zone, locale)
                       VALUES (:loan_id, 'x', '+8613800000000', 'Asia/Shanghai', 'zh-CN');
                    """
                ),
                {"loan_id": loan_id},
            )
            await s.execute(
                sa.text(
                    """INSERT INTO loan (loan_id, borrower_id, product, status, principal,
                              currency, annual_rate, term_months, repayment_method, disbursed_on,
                              first_due_on, jurisdiction, dpd, bucket, fingerprint)
                       VALUES (:loan_id, :loan_id, :product, 'active', :principal, 'CNY', 0.12,
                               12, 'annuity', :disbursed, :disbursed, 'cn', 0, 'C', 'x')"""
                ),
                {
                    "loan_id": loan_id,
                    "product": product,
                    "principal": principal,
                    "disbursed": date.fromisoformat(disbursed),
                },
            )
        for as_of, loans in SNAPSHOTS.items():
            for loan_id, (bucket, dpd, balance) in loans.items():
                disbursed, product, _ = LOANS[loan_id]
                await s.execute(
                    sa.text(
                        """INSERT INTO delinquency_snapshot VALUES (:as_of, :loan_id, :product,
                               :disbursed, :dpd, :bucket, :status, :balance, :total)"""
                    ),
                    {
                        "as_of": date.fromisoformat(as_of),
                        "loan_id": loan_id,
                        "product": product,
                        "disbursed": date.fromisoformat(disbursed),
                        "dpd": dpd,
                        "bucket": bucket,
                        "status": "delinquent" if dpd else "active",
                        "balance": balance,
                        "total": balance + 10,
                    },
                )
    await db.dispose()
    return monitoring


def _row(matrix: list[dict[str, Any]], bucket: str) -> dict[str, dict[str, Any]]:
    row = next(r for r in matrix if r["from_bucket"] == bucket)
    return {c["to_bucket"]: {k: v for k, v in c.items() if k != "to_bucket"} for c in row["to"]}


async def test_the_summary_counts_loans_and_balances_per_bucket_and_product(
    portfolio: httpx.AsyncClient,
) -> None:
    summary = (await portfolio.get("/api/v1/portfolio/summary?as_of=2026-02-27")).json()

    assert summary["as_of"] == "2026-02-27"
    assert summary["buckets"][:3] == [
        {"bucket": "C", "count": 4, "outstanding": "6400.00", "outstanding_total": "6440.00"},
        {"bucket": "M1", "count": 1, "outstanding": "2000.00", "outstanding_total": "2010.00"},
        {"bucket": "M2", "count": 1, "outstanding": "3000.00", "outstanding_total": "3010.00"},
    ]
    assert [b["bucket"] for b in summary["buckets"]][3:] == ["M3", "M4", "M5", "M6", "M7+"]
    assert {b["count"] for b in summary["buckets"][3:]} == {0}
    assert summary["total"] == {
        "count": 6,
        "outstanding": "11400.00",
        "outstanding_total": "11460.00",
    }
    default, p2 = summary["products"]
    assert (default["product"], default["count"], default["outstanding"]) == (
        "default",
        4,
        "9400.00",
    )
    assert [(b["bucket"], b["count"]) for b in default["buckets"][:3]] == [
        ("C", 2),
        ("M1", 1),
        ("M2", 1),
    ]
    assert (p2["product"], p2["count"], p2["outstanding"]) == ("p2", 2, "2000.00")


async def test_the_summary_defaults_to_the_latest_snapshot_and_404s_on_a_date_without_one(
    portfolio: httpx.AsyncClient,
) -> None:
    latest = (await portfolio.get("/api/v1/portfolio/summary")).json()
    assert (latest["as_of"], latest["total"]["count"]) == ("2026-03-31", 5)
    missing = await portfolio.get("/api/v1/portfolio/summary?as_of=2026-02-28")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_roll_rates_go_from_month_end_to_month_end_by_count_and_by_balance(
    portfolio: httpx.AsyncClient,
) -> None:
    rates = (await portfolio.get("/api/v1/portfolio/roll-rates?from=2026-01&to=2026-02")).json()

    assert (rates["from_on"], rates["to_on"]) == ("2026-01-31", "2026-02-27")
    current = _row(rates["matrix"], "C")  # A stays (1000.00), B rolls to M1 (2000.00)
    assert current["C"] == {
        "count": 1,
        "balance": "1000.00",
        "count_rate": "0.5000",
        "balance_rate": "0.3333",
    }
    assert current["M1"] == {
        "count": 1,
        "balance": "2000.00",
        "count_rate": "0.5000",
        "balance_rate": "0.6667",
    }
    assert current["M2"] == {**EMPTY_ROW, "count_rate": "0.0000", "balance_rate": "0.0000"}
    early = _row(rates["matrix"], "M1")  # D cures (4000.00), C rolls to M2 (3000.00)
    assert (early["C"]["balance_rate"], early["M2"]["balance_rate"]) == ("0.5714", "0.4286")
    assert _row(rates["matrix"], "M2")["M3"] == EMPTY_ROW
    assert [r["from_bucket"] for r in rates["matrix"]] == [
        "C", "M1", "M2", "M3", "M4", "M5", "M6", "M7+",
    ]  # fmt: skip


async def test_a_loan_gone_by_the_next_month_end_rolls_to_exit(
    portfolio: httpx.AsyncClient,
) -> None:
    rates = (await portfolio.get("/api/v1/portfolio/roll-rates?from=2026-02")).json()

    assert (rates["from_on"], rates["to_on"]) == ("2026-02-27", "2026-03-31")
    current = _row(rates["matrix"], "C")  # A 900 exits; D 3500 and F 1000 stay; E 1000 rolls
    assert {k: (v["count_rate"], v["balance_rate"]) for k, v in current.items() if v["count"]} == {
        "C": ("0.5000", "0.7031"),
        "M1": ("0.2500", "0.1563"),
        "exit": ("0.2500", "0.1406"),
    }
    assert _row(rates["matrix"], "M1")["M2"]["count_rate"] == "1.0000"


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("from=2026-13", 422),
        ("from=26-01", 422),
        ("from=2026-02&to=2026-01", 422),
        ("from=2026-05", 404),
        ("to=2026-02", 422),
    ],
)
async def test_bad_roll_rate_months_are_problems(
    portfolio: httpx.AsyncClient, query: str, status: int
) -> None:
    response = await portfolio.get(f"/api/v1/portfolio/roll-rates?{query}")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


async def test_cure_rates_count_delinquent_loans_back_in_c_at_the_next_month_end(
    portfolio: httpx.AsyncClient,
) -> None:
    periods = (await portfolio.get("/api/v1/portfolio/cure-rates")).json()["periods"]

    assert [(p["from_on"], p["to_on"]) for p in periods] == [
        ("2026-01-31", "2026-02-27"),
        ("2026-02-27", "2026-03-31"),
    ]
    january, february = periods
    assert january["total"] == {
        "from_bucket": "all",
        "count": 2,
        "cured": 1,  # D
        "exited": 0,
        "rate": "0.5000",
        "balance": "7000.00",
        "cured_balance": "4000.00",
        "balance_rate": "0.5714",
    }
    assert [(b["from_bucket"], b["count"], b["rate"]) for b in february["buckets"][:2]] == [
        ("M1", 1, "0.0000"),
        ("M2", 1, "0.0000"),
    ]
    only_march = (await portfolio.get("/api/v1/portfolio/cure-rates?from=2026-02")).json()
    assert [p["from_on"] for p in only_march["periods"]] == ["2026-02-27"]


async def test_vintages_accumulate_30_plus_by_months_on_book_at_month_ends(
    portfolio: httpx.AsyncClient,
) -> None:
    body = (await portfolio.get("/api/v1/portfolio/vintages?metric=30")).json()

    assert body["metric"] == 30
    january, february = body["vintages"]
    assert (january["vintage"], january["loans"], january["principal"]) == (
        "2026-01",
        4,
        "10000.00",
    )
    # D at 35 DPD on 02-15 cured by the month-end: not counted; C from 02-27, B from 03-31.
    assert [(p["months_on_book"], p["as_of"], p["bad"], p["rate"]) for p in january["points"]] == [
        (0, "2026-01-31", 0, "0.0000"),
        (1, "2026-02-27", 1, "0.2500"),
        (2, "2026-03-31", 2, "0.5000"),
    ]
    assert [p["principal_rate"] for p in january["points"]] == ["0.0000", "0.3000", "0.5000"]
    assert [(p["months_on_book"], p["rate"]) for p in february["points"]] == [
        (0, "0.0000"),
        (1, "0.0000"),
    ]
    ninety = (await portfolio.get("/api/v1/portfolio/vintages?metric=90")).json()
    assert {p["bad"] for v in ninety["vintages"] for p in v["points"]} == {0}
    assert (await portfolio.get("/api/v1/portfolio/vintages?metric=60")).status_code == 422


async def test_the_summary_reflects_the_last_closed_business_date(
    monitoring: httpx.AsyncClient,
) -> None:
    assert (await monitoring.get("/api/v1/portfolio/summary")).status_code == 404
    for n in (1, 2):
        body = make_registration(loan_id=f"L-{n}", borrower_id=f"B-{n}", first_due_on="2026-01-16")
        assert (await monitoring.post("/api/v1/loans", json=body)).status_code == 201
    for day in ("2026-01-15", "2026-01-16", "2026-01-17"):
        run = (await monitoring.post("/api/v1/eod", json={"as_of": day})).json()
        while run["status"] == "running":
            await asyncio.sleep(0.01)
            run = (await monitoring.get(f"/api/v1/eod/{run['run_id']}")).json()

    summary = (await monitoring.get("/api/v1/portfolio/summary")).json()

    assert summary["as_of"] == "2026-01-17"
    assert [(b["bucket"], b["count"]) for b in summary["buckets"][:2]] == [("C", 0), ("M1", 2)]
    assert summary["total"]["outstanding"] == "24000.00"
    assert summary["total"]["outstanding_total"] == "24240.62"  # + 2 × (120.00 + 0.31)
