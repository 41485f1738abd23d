"""Bulk import: a generated portfolio of loans (with their schedules) imported into PostgreSQL.

Starts an embedded PostgreSQL in a temporary folder, migrates monitoring's database, writes a
portfolio file (NDJSON or CSV, schedules computed by the import, optionally payment history),
imports it with the same use case as ``postloan-monitoring import``, and prints loans/s,
rows/s, the total time and the peak RSS of this process, beside a bare ``COPY`` of as many
plain rows into an unindexed table in the same run.

Targets (issue 3): 1,000,000 loans with their schedules in <= 60 s, the import's RSS <= 300 MB.

    uv run python bench/bench_import.py [--loans 1000000] [--format ndjson] [--payments 0]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import psutil

from devstack.embedded import EmbeddedPostgres
from monitoring.service_layer.bulk_import import import_portfolio
from monitoring.service_layer.import_files import Format
from postloan_testing.measure import PeakRss
from shared.db import Database, asyncpg_dsn, create_database, migrate

MIGRATIONS = Path(__file__).parents[1] / "services/monitoring/src/monitoring/migrations"
TIME_LIMIT_S = 540
TERMS = (6, 12, 12, 12, 24)  # months: 13.2 instalments a loan on average
RATES = ("0.0720", "0.0999", "0.1200", "0.1500", "0.1800", "0.2400")
METHODS = ("annuity", "annuity", "equal_principal", "interest_only")
ZONES = ("Asia/Shanghai", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Urumqi")
START = date(2024, 1, 1)
CSV_LOAN_COLUMNS = (
    *("loan_id", "borrower_id", "borrower_name", "borrower_phone", "borrower_email"),
    *("borrower_time_zone", "principal", "annual_rate", "term_months", "repayment_method"),
    "disbursed_on",
)


def registration(n: int, rng: random.Random) -> dict[str, Any]:
    """A loan as a lender's export would have it: round principals, a few rates and terms."""
    disbursed_on = START + timedelta(days=rng.randrange(540))
    return {
        "loan_id": f"L{n:08d}",
        "borrower": {
            "borrower_id": f"B{n:08d}",
            "name": f"借款人{n}",
            "phone": f"+86138{n:08d}",
            "email": f"b{n}@example.com",
            "time_zone": rng.choice(ZONES),
        },
        "principal": f"{rng.randrange(10, 500) * 100}.00",
        "annual_rate": rng.choice(RATES),
        "term_months": rng.choice(TERMS),
        "repayment_method": rng.choice(METHODS),
        "disbursed_on": disbursed_on.isoformat(),
    }


def history(loan: dict[str, Any], count: int, rng: random.Random) -> list[dict[str, Any]]:
    disbursed_on = date.fromisoformat(loan["disbursed_on"])
    amount = int(loan["principal"].split(".")[0]) // loan["term_months"]
    return [
        {
            "payment_id": f"P{loan['loan_id']}-{k}",
            "amount": f"{amount + rng.randrange(100)}.00",
            "paid_at": f"{disbursed_on + timedelta(days=30 * (k + 1))}T10:00:00+08:00",
            "channel": "bank_transfer",
        }
        for k in range(min(count, loan["term_months"]))
    ]


def write_portfolio(
    folder: Path, loans: int, fmt: Format, payments: int
) -> tuple[Path, Path | None]:
    rng = random.Random(42)
    if fmt is Format.NDJSON:
        path = folder / "loans.ndjson"
        with path.open("wb") as f:
            for n in range(loans):
                loan = registration(n, rng)
                if payments:
                    loan["payments"] = history(loan, payments, rng)
                f.write(orjson.dumps(loan) + b"\n")
        return path, None
    path, paid = folder / "loans.csv", folder / "payments.csv"
    with path.open("w", newline="") as f, paid.open("w", newline="") as g:
        loans_out, payments_out = csv.writer(f), csv.writer(g)
        loans_out.writerow(CSV_LOAN_COLUMNS)
        payments_out.writerow(["payment_id", "loan_id", "amount", "paid_at", "channel"])
        for n in range(loans):
            loan = registration(n, rng)
            b = loan["borrower"]
            flat = loan | {f"borrower_{k}": v for k, v in b.items()} | b
            loans_out.writerow([flat[c] for c in CSV_LOAN_COLUMNS])
            for p in history(loan, payments, rng) if payments else []:
                payments_out.writerow(
                    [p["payment_id"], loan["loan_id"], p["amount"], p["paid_at"], p["channel"]]
                )
    return path, paid if payments else None


async def _plain_rows(rows: int) -> AsyncIterator[bytes]:
    """The bare COPY's data in slices, so that it does not swell this process's RSS."""
    for first in range(0, rows, 100_000):
        last = min(first + 100_000, rows)
        yield "".join(f"{i}\t{i % 100000}.25\n" for i in range(first, last)).encode()


async def bare_copy(url: str, rows: int) -> float:
    """Seconds to COPY ``rows`` plain rows (text, two numbers) into an unindexed table."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute("CREATE TABLE bare (id bigint, amount numeric(18,2))")
        started = time.perf_counter()
        await conn.copy_to_table("bare", source=_plain_rows(rows), format="text")
        seconds = time.perf_counter() - started
        await conn.execute("DROP TABLE bare")
        return seconds
    finally:
        await conn.close()


async def run_import(url: str, loans: Path, payments: Path | None, fmt: Format) -> dict[str, Any]:
    db = Database(url)
    size = loans.stat().st_size
    last = [0.0]

    def progress(done: int) -> None:
        if time.perf_counter() - last[0] > 5:
            last[0] = time.perf_counter()
            print(f"  … {done / size:5.1%} of the file", flush=True)

    try:
        started = time.perf_counter()
        with loans.open("rb") as f, payments.open("rb") if payments else io.BytesIO() as g:
            async with db.unit_of_work() as session:
                report = await import_portfolio(
                    session, f, fmt=fmt, payments=g if payments else None, progress=progress
                )
                commit_from = time.perf_counter()
        ended = time.perf_counter()
        return report.as_dict() | {
            "total": ended - started,
            "commit": ended - commit_from,
            "skipped_triggers": report.skipped_triggers,
        }
    finally:
        await db.dispose()


async def main(args: argparse.Namespace) -> None:
    fmt = Format(args.format)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        loans, payments = write_portfolio(folder, args.loans, fmt, args.payments)
        print(
            f"wrote {args.loans:,} loans ({loans.stat().st_size / 1e6:,.0f} MB {fmt}) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        pg = EmbeddedPostgres(folder / "pg").start()
        try:
            url = pg.url_for("monitoring")
            await create_database(pg.url, "monitoring")
            await migrate(url, MIGRATIONS)
            before = psutil.Process().memory_info().rss
            load_before = os.getloadavg()
            try:
                async with PeakRss() as rss:
                    figures = await asyncio.wait_for(
                        run_import(url, loans, payments, fmt), TIME_LIMIT_S
                    )
            except TimeoutError:
                print(f"NOT finished within {TIME_LIMIT_S} s (rolled back): target NOT met")
                return
            load_after = os.getloadavg()
            rows = figures["loans"] + figures["borrowers"] + figures["instalments"]
            rows += figures["payments"] + figures["loans"]  # outbox rows: one per loan
            bare = await bare_copy(pg.url_for("monitoring"), rows)
        finally:
            pg.stop()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds = figures["total"]
    print(f"status            {figures['status']} ({figures['error_count']} errors)")
    print(
        f"loans             {figures['loans']:,}  instalments {figures['instalments']:,}  "
        f"payments {figures['payments']:,}  borrowers {figures['borrowers']:,}"
    )
    print(
        f"import            {seconds:.1f} s total (commit {figures['commit']:.2f} s), "
        f"foreign-key triggers skipped: {figures['skipped_triggers']}"
    )
    print(
        f"throughput        {figures['loans'] / seconds:,.0f} loans/s, "
        f"{rows / seconds:,.0f} rows/s (all tables incl. outbox)"
    )
    print(f"bare COPY         {rows / bare:,.0f} rows/s ({rows:,} plain rows in {bare:.1f} s)")
    print(
        f"RSS               {before / 2**20:,.0f} MB before the import, {rss.peak / 2**20:,.0f} MB "
        f"at most during it (process peak, generator included: {peak_mb:,.0f} MB)"
    )
    print(
        f"load average      {_load(load_before)} before the import, {_load(load_after)} after "
        f"({os.cpu_count()} cores; this bench's own processes included)"
    )
    print(
        f"target            <= 60 s for 1,000,000 loans: "
        f"{'met' if seconds <= 60 * args.loans / 1_000_000 else 'NOT met'} (pro rata)"
    )


def _load(average: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in average)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--format", choices=[f.value for f in Format], default="ndjson")
    parser.add_argument("--payments", type=int, default=0, help="payments per loan (history)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args(sys.argv[1:])))
