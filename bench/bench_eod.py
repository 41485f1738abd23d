"""End of day over a whole portfolio, beside a bare set-based UPDATE of the same loans.

Starts embedded PostgreSQL in a temporary folder, creates and migrates a monitoring database,
and bulk-loads ``--loans`` loans (12 monthly instalments each, one borrower each) with asyncpg
COPY: loans disbursed over six months, every instalment due before the business date paid
except on a share of the loans (``--overdue``) that have missed 1 to 8 instalments, and each
loan's DPD, bucket and status as the previous end of day left them. Then it times, in this
order, one end-of-day run for the business date (the service-layer function, no HTTP), step by
step, and ``UPDATE loan SET dpd = dpd + 1`` over the same rows, and prints both, their ratio,
and the peak RSS of this process.

Target (BRIEF section 8): end of day over 1,000,000 loans <= 20 s and <= 5x the bare UPDATE.

    uv run python bench/bench_eod.py [--loans 1000000] [--overdue 0.1] [--chunk 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg

from devstack.embedded import EmbeddedPostgres
from monitoring.domain.buckets import DEFAULT_BUCKETS, parse_buckets
from monitoring.domain.schedule import add_months, build_schedule
from monitoring.service_layer.eod import EodConfig, StopAt, request_eod, run_eod
from postloan_testing.measure import PeakRss
from shared.db import Database, asyncpg_dsn, create_database, migrate
from shared.types import RepaymentMethod

MIGRATIONS = Path(__file__).parents[1] / "services/monitoring/src/monitoring/migrations"
AS_OF = date(2026, 3, 31)
FIRST_DISBURSAL = date(2025, 7, 1)
DISBURSAL_DAYS = 180
BATCH = 20_000
SCALE = parse_buckets(DEFAULT_BUCKETS)
SCHEDULE = build_schedule(
    principal=Decimal("12000.00"),
    annual_rate=Decimal("0.12"),
    term_months=12,
    method=RepaymentMethod.ANNUITY,
    first_due_on=date(2000, 1, 1),
)
LINES = [(f"{i.principal}", f"{i.interest}") for i in SCHEDULE]
LOAN_COLUMNS = [
    "loan_id", "borrower_id", "product", "status", "principal", "currency", "annual_rate",
    "term_months", "repayment_method", "disbursed_on", "first_due_on", "jurisdiction", "dpd",
    "bucket", "fingerprint",
]  # fmt: skip
INSTALMENT_COLUMNS = [
    "loan_id", "seq", "due_on", "principal", "interest", "fees", "paid_principal",
    "paid_interest", "paid_fees", "penalty", "paid_penalty",
]  # fmt: skip


@dataclass
class Portfolio:
    loans: int
    overdue_share: float

    def overdue(self, n: int) -> int:
        """How many of loan ``n``'s instalments due by the business date are unpaid."""
        step = max(round(1 / self.overdue_share), 1) if self.overdue_share > 0 else 0
        if not step or n % step:
            return 0
        return 1 + (n // step) % 8

    def lines(self, first: int, last: int) -> tuple[bytes, bytes, bytes]:
        """COPY text of the borrowers, loans and instalments of loans ``first`` to ``last``."""
        borrowers, loans, instalments = [], [], []
        yesterday = AS_OF - timedelta(days=1)
        for n in range(first, last):
            loan_id, borrower_id = f"L{n:09d}", f"B{n:09d}"
            disbursed = FIRST_DISBURSAL + timedelta(days=n % DISBURSAL_DAYS)
            dues = [add_months(disbursed, k + 1) for k in range(12)]
            fallen_due = sum(1 for d in dues if d <= AS_OF)
            unpaid_from = fallen_due - min(self.overdue(n), fallen_due)
            oldest = dues[unpaid_from] if unpaid_from < fallen_due else None
            dpd = max((yesterday - oldest).days, 0) if oldest else 0
            status = "delinquent" if dpd else "active"
            borrowers.append(f"{borrower_id}\tBorrower {n}\t+8613800000000\tAsia/Shanghai\tzh-CN\n")
            loans.append(
                f"{loan_id}\t{borrower_id}\tdefault\t{status}\t12000.00\tCNY\t0.12\t12\tannuity\t"
                f"{disbursed}\t{dues[0]}\tcn\t{dpd}\t{SCALE.bucket_for(dpd)}\t{n:064d}\n"
            )
            for seq, (due, (principal, interest)) in enumerate(zip(dues, LINES, strict=True), 1):
                paid = seq <= unpaid_from
                pp, pi = (principal, interest) if paid else ("0.00", "0.00")
                instalments.append(
                    f"{loan_id}\t{seq}\t{due}\t{principal}\t{interest}\t0.00\t{pp}\t{pi}\t0.00"
                    "\t0.00\t0.00\n"
                )
        return ("".join(borrowers).encode(), "".join(loans).encode(), "".join(instalments).encode())


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def load(dsn: str, portfolio: Portfolio) -> float:
    """COPY the portfolio in batches; return the seconds it took."""
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        for first in range(0, portfolio.loans, BATCH):
            borrowers, loans, instalments = portfolio.lines(
                first, min(first + BATCH, portfolio.loans)
            )
            async with conn.transaction():
                await conn.copy_to_table(
                    "borrower",
                    source=_one(borrowers),
                    columns=["borrower_id", "name", "phone", "time_zone", "locale"],
                )
                await conn.copy_to_table("loan", source=_one(loans), columns=LOAN_COLUMNS)
                await conn.copy_to_table(
                    "instalment", source=_one(instalments), columns=INSTALMENT_COLUMNS
                )
        await conn.execute("UPDATE business_date SET business_date = $1 WHERE id = 1", AS_OF)
        await conn.execute("VACUUM ANALYZE")  # as autovacuum would have, on a live database
    finally:
        await conn.close()
    return time.perf_counter() - started


async def time_eod(url: str, chunk: int) -> tuple[float, dict[str, float], int, int]:
    """One end of day for the business date: total seconds, per step, loans and transitions."""
    db = Database(url, pool_size=2)
    config = EodConfig(scale=SCALE, chunk_size=chunk)
    steps: dict[str, float] = {}
    try:
        started = time.perf_counter()
        run = (await request_eod(db, AS_OF)).run
        steps["start"] = time.perf_counter() - started
        for step in ("loans", "rules", "advance"):
            t = time.perf_counter()
            stop = StopAt(step) if step != "advance" else None
            result = await run_eod(db, run.run_id, config, stop=stop)
            steps[step] = time.perf_counter() - t
            if result is None or result.error is not None:
                raise RuntimeError(f"end of day failed in {step}: {result}")
        total = time.perf_counter() - started
        if result is None or result.status != "completed":
            raise RuntimeError(f"end of day did not complete: {result}")
        return total, steps, result.loans_total, result.transitions
    finally:
        await db.dispose()


async def time_bare_update(dsn: str) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        await conn.execute("UPDATE loan SET dpd = dpd + 1")
        return time.perf_counter() - started
    finally:
        await conn.close()


async def bench(loans: int, overdue: float, chunk: int, root: Path) -> None:
    server = EmbeddedPostgres(root / "pg").start()
    try:
        await create_database(server.url, "monitoring")
        url = server.url_for("monitoring")
        await migrate(url, MIGRATIONS)
        dsn = asyncpg_dsn(url)
        loaded = await load(dsn, Portfolio(loans, overdue))
        print(f"loaded {loans:,} loans and {12 * loans:,} instalments in {loaded:.1f} s (COPY)")
        async with PeakRss() as rss:
            eod, steps, total, moved = await time_eod(url, chunk)
        bare = await time_bare_update(dsn)
    finally:
        server.stop()
    print(f"\nend of day {AS_OF} over {total:,} open loans, chunks of {chunk:,}")
    for step, seconds in steps.items():
        print(f"  {step:<9} {seconds:7.2f} s")
    print(f"end of day        {eod:7.2f} s   (target <= 20 s for 1,000,000 loans)")
    print(f"bare UPDATE       {bare:7.2f} s   (UPDATE loan SET dpd = dpd + 1, same rows)")
    print(f"ratio             {eod / bare:7.2f} x   (target <= 5 x)")
    print(f"transitions       {moved:,} delinquency.changed events in the outbox")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"RSS during EOD    {rss.peak / 2**20:7.0f} MB   (peak of the process: {peak:.0f} MB)")
    print(f"cpus              {os.cpu_count()} (PostgreSQL and this process share them)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--overdue", type=float, default=0.1, help="share of loans in arrears")
    parser.add_argument("--chunk", type=int, default=50_000, help="loans per transaction")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="postloan-bench-eod-"))
    try:
        asyncio.run(bench(args.loans, args.overdue, args.chunk, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
