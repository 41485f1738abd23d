"""Collectors' work at portfolio scale: the work queue and strategy results (issue 15).

Starts PostgreSQL and NATS from their wheels and collections as a process, stores the bench
strategy, then loads straight into collections' database (``INSERT ... SELECT`` from
``generate_series``):

- ``--cases`` open cases (default 1,000,000), each with one open task, the tasks spread over
  ``--collectors`` collectors (default 200: 5,000 tasks each) through their cases; then
  ``--queries`` ``GET /api/v1/work-queue`` calls, each by a random collector (signed as the
  gateway would, so the access check is in the figure), one at a time
  (target p99 <= 50 ms);
- ``--closed`` closed cases of the strategy (default 1,000,000) in two variants, with timeline
  lines and ledger slots, then ``GET /api/v1/strategies/bench/results`` (target <= 10 s).

    uv run python bench/bench_work.py [--cases 1000000] [--collectors 200] [--closed 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from devstack.embedded import EmbeddedNats, EmbeddedPostgres
from shared.db import asyncpg_dsn, create_database
from shared.principal import Principal

sys.path.insert(0, str(Path(__file__).parents[1]))  # the bench package
from bench.bench_collections import references, start_collections, with_strategy
from bench.bench_scoring_events import percentile
from bench.signing import AsAdmin

TARGET_QUEUE_P99_MS, TARGET_RESULTS_S = 50.0, 10.0

LOAD_OPEN = (
    references("W")
    + """
INSERT INTO collection_case (case_id, loan_id, borrower_id, status, opened_on, dpd, bucket,
                             overdue_amount, tier, quadrant, pack, assignee)
SELECT gen_random_uuid(), 'WL-' || i, 'WB-' || i, 'open', DATE '2026-02-16', 1 + i % 90,
       CASE WHEN i % 90 < 30 THEN 'M1' WHEN i % 90 < 60 THEN 'M2' ELSE 'M3' END, 100.00,
       (ARRAY['A','B','C','D','E'])[1 + i % 5], NULL, 'cn', 'collector-' || (i % $2)
FROM generate_series(1, $1) AS i;
INSERT INTO task (task_id, case_id, kind, queue, due_on, assignees, status, created_at)
SELECT gen_random_uuid(), c.case_id, 'agent_call', 'early',
       DATE '2026-02-16' + (hashtext(c.loan_id) & 31),
       ARRAY[c.assignee],
       'open', now()
FROM collection_case c WHERE c.loan_id LIKE 'WL-%';
VACUUM ANALYZE;
"""
)

LOAD_CLOSED = (
    references("R")
    + """
INSERT INTO collection_case (case_id, loan_id, borrower_id, status, opened_on, closed_on,
                             close_reason, dpd, bucket, overdue_amount, tier, quadrant, pack,
                             strategy_id, strategy_version, segment, variant, segment_entered_on)
SELECT gen_random_uuid(), 'RL-' || i, 'RB-' || i, 'closed', DATE '2026-01-16',
       DATE '2026-02-16', CASE WHEN i % 10 < 6 THEN 'cured' ELSE 'paid_off' END, 0, 'C',
       100.00, 'D', NULL, 'cn', 'bench', 1, 'early-risky',
       CASE WHEN i % 5 = 0 THEN 'challenger' ELSE 'champion' END, DATE '2026-01-16'
FROM generate_series(1, $1) AS i;
INSERT INTO case_event (case_id, at, business_date, kind, detail)
SELECT case_id, now(), DATE '2026-01-20', 'bucket_changed',
       jsonb_build_object('from', 'M1', 'to', 'M2', 'dpd', 31)
FROM collection_case WHERE loan_id LIKE 'RL-%' AND hashtext(loan_id) & 7 = 0;
ANALYZE;
"""
)


async def load(dsn: str, script: str, *args: int) -> float:
    conn = await asyncpg.connect(dsn)
    started = time.perf_counter()
    try:
        for statement in filter(str.strip, script.split(";")):
            used = [a for i, a in enumerate(args, 1) if f"${i}" in statement]
            await conn.execute(statement, *used)
    finally:
        await conn.close()
    return time.perf_counter() - started


async def queue_latencies(url: str, collectors: int, queries: int) -> list[float]:
    rng = random.Random(7)
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        for _ in range(queries):
            who = f"collector-{rng.randrange(collectors)}"
            started = time.perf_counter()
            collector = Principal(who, frozenset({"collector"}), frozenset({"cases:read"}))
            answer = await client.get("/api/v1/work-queue", auth=AsAdmin(collector))
            latencies.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
            if len(answer.json()["items"]) != 50:
                raise RuntimeError(f"{who}'s queue is short: {answer.text[:200]}")
    return latencies


async def results_seconds(url: str) -> tuple[float, int]:
    async with httpx.AsyncClient(base_url=url, timeout=600, auth=AsAdmin()) as client:
        started = time.perf_counter()
        answer = await client.get("/api/v1/strategies/bench/results")
        elapsed = time.perf_counter() - started
        answer.raise_for_status()
    arms = answer.json()["arms"]
    return elapsed, sum(int(a["cases"]) for a in arms)


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pg, bus = EmbeddedPostgres(work / "pg").start(), EmbeddedNats(work / "nats").start()
        try:
            await create_database(pg.url, "collections")
            service = start_collections(work, pg, bus.url)
            dsn = asyncpg_dsn(pg.url_for("collections"))
            try:
                await with_strategy(service.url)
                print(f"loading {args.cases:,} open cases and tasks ...", flush=True)
                seconds = await load(dsn, LOAD_OPEN, args.cases, args.collectors)
                print(f"loaded in {seconds:.0f} s; {args.queries} work queues ...", flush=True)
                ms = await queue_latencies(service.url, args.collectors, args.queries)
                print(
                    f"work queue of one of {args.collectors} collectors among {args.cases:,} "
                    f"open cases: p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f}"
                    f" ms, p99 {percentile(ms, 99):.1f} ms (target <= {TARGET_QUEUE_P99_MS:.0f})"
                )
                print(f"loading {args.closed:,} closed cases ...", flush=True)
                await load(dsn, LOAD_CLOSED, args.closed)
                elapsed, cases = await results_seconds(service.url)
                print(
                    f"strategy results over {cases:,} cases: {elapsed:.2f} s "
                    f"(target <= {TARGET_RESULTS_S:.0f} s for 1,000,000 closed)"
                )
            finally:
                service.stop()
        finally:
            bus.stop()
            pg.stop()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--collectors", type=int, default=200)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--closed", type=int, default=1_000_000)
    sys.exit(asyncio.run(main(parser.parse_args())))
