"""Batch rescoring after an end of day, beside bare score_matrix and bare COPY/UPDATE figures.

Starts embedded PostgreSQL in a temporary folder, creates and migrates a scoring database and
loads ``--loans`` loans of generated facts with asyncpg COPY (fixed seed): terms, 12 scheduled
instalments each, an allocation for every instalment paid (most on time, some late, some loans
that stopped paying, a few cured after a long arrear), a bureau report per borrower and an alert
on the loans in arrears. It registers and promotes a champion trained on the simulator's
portfolio through the service layer, then times two full ``BatchRescorer`` runs (chunks of
``--chunk`` loans, each one transaction, as the service runs them): the first scoring of every
loan from its history (every row written and announced, feature segments stored) and, after
what a day does to a live database (the relay empties the outbox, autovacuum analyses), the
next day's run, which takes only the loans due that day and moves them on from their segments
(only moved rows written). Rates are open loans in the portfolio per second of the run. Each
run is split by timing the functions it calls (wrapped in place, ~0.5 µs per call): loading,
features, vectorised scoring, reasons, writes, events, segments saved, chunk selection, row
locks, and the rest (run row, commit); full garbage collections during the next day's run are
counted. Beside them, in the same run: ``score_matrix`` alone on the same feature matrices, and
a bare asyncpg COPY then ``UPDATE`` of N score-shaped rows.

Target (BRIEF): batch rescoring >= 200,000 loans/s (vectorised) including writing changed scores.

    uv run python bench/bench_scoring_batch.py [--loans 100000] [--chunk 5000] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from unittest import mock

import asyncpg
import numpy as np

import scoring
from devstack.embedded import EmbeddedPostgres
from postloan_testing.measure import PeakRss
from scoring.adapters import histories, segments
from scoring.domain import timeline
from scoring.domain.features import add_months
from scoring.domain.model import FloatArray
from scoring.domain.scorecard import ScorecardModel
from scoring.service_layer import batch, nightly, registry, rescoring
from scoring.service_layer.batch import BatchRescorer, schedule_run
from shared.db import Database, asyncpg_dsn, create_database, migrate
from shared.messaging import outbox

P = ParamSpec("P")
R = TypeVar("R")

MIGRATIONS = Path(scoring.__file__).parent / "migrations"
TESTS = Path(__file__).parents[1] / "tests"
AS_OF = date(2026, 3, 31)  # the business date of the next day's run
BATCH = 20_000  # loans per COPY transaction while loading
CENT = Decimal("0.01")
TERM = 12
PRINCIPALS = (3000, 6000, 12000, 24000)
RATES = ("0.12", "0.18", "0.24")
TARGET = 200_000  # loans/s
INSTALMENT_COLUMNS = ["loan_id", "seq", "due_on", "principal", "due"]
TERMS_COLUMNS = [
    "loan_id", "borrower_id", "product", "principal", "currency", "annual_rate", "term_months",
    "repayment_method", "disbursed_on", "first_due_on",
]  # fmt: skip
ALLOCATION_COLUMNS = ["payment_id", "reversal", "seq", "loan_id", "booked_on", "principal", "total"]
BUREAU_COLUMNS = [
    "borrower_id", "reported_at", "reported_on", "score", "inquiries_30d", "open_loans",
    "delinquent_accounts",
]  # fmt: skip
ALERT_COLUMNS = ["alert_id", "loan_id", "rule", "raised_on"]
SCORE_COLUMNS = [
    "loan_id", "model_version", "as_of", "pd", "score", "tier", "reasons", "features",
    "features_key", "scored_at",
]  # fmt: skip


# --- the portfolio ------------------------------------------------------------------------


def annuity(principal: int, rate: str) -> list[tuple[Decimal, Decimal]]:
    """(principal, due) of each line of a 12-month annuity, interest on the declining balance."""
    monthly = Decimal(rate) / 12
    balance = Decimal(principal)
    payment = (balance * monthly / (1 - (1 + monthly) ** -TERM)).quantize(CENT, ROUND_HALF_UP)
    lines = []
    for seq in range(1, TERM + 1):
        interest = (balance * monthly).quantize(CENT, ROUND_HALF_UP)
        part = balance if seq == TERM else payment - interest
        lines.append((part, part + interest))
        balance -= part
    return lines


SCHEDULES = {(p, r): annuity(p, r) for p in PRINCIPALS for r in RATES}


@dataclass
class Rows:
    """COPY text of every table, one list of lines each."""

    terms: list[str] = field(default_factory=list)
    instalments: list[str] = field(default_factory=list)
    allocations: list[str] = field(default_factory=list)
    bureau: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)


def paid_on(rng: random.Random, kind: str, due: date, seq: int, stop: int) -> date | None:
    """When a loan of ``kind`` paid instalment ``seq`` due on ``due`` (None: not paid)."""
    if kind == "good":
        return due - timedelta(days=rng.randrange(4))
    if kind == "late":
        return due + timedelta(days=rng.randrange(1, 26))
    if kind == "arrears":
        return None if seq >= stop else due
    return due + timedelta(days=rng.randrange(35, 71)) if seq == stop else due  # cured


def behaviour(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.78:
        return "good"
    return "late" if draw < 0.90 else "arrears" if draw < 0.98 else "cured"


def add_loan(rows: Rows, rng: random.Random, n: int) -> None:
    """One loan's facts as known at the close of :data:`AS_OF`."""
    loan_id, borrower_id = f"L{n:09d}", f"B{n:09d}"
    disbursed = AS_OF - timedelta(days=rng.randrange(1, 335))  # at most 11 fallen due: open
    principal, rate = rng.choice(PRINCIPALS), rng.choice(RATES)
    dues = [add_months(disbursed, k + 1) for k in range(TERM)]
    rows.terms.append(
        f"{loan_id}\t{borrower_id}\tdefault\t{principal}.00\tCNY\t{rate}\t{TERM}\tannuity\t"
        f"{disbursed}\t{dues[0]}\n"
    )
    kind = behaviour(rng)
    fallen = sum(1 for d in dues if d <= AS_OF)
    stop = rng.randrange(1, fallen + 1) if fallen else 0
    lines = zip(dues, SCHEDULES[principal, rate], strict=True)
    for seq, (due_on, (part, due)) in enumerate(lines, 1):
        rows.instalments.append(f"{loan_id}\t{seq}\t{due_on}\t{part}\t{due}\n")
        booked = paid_on(rng, kind, due_on, seq, stop) if due_on <= AS_OF else None
        if booked is not None and booked <= AS_OF:
            rows.allocations.append(f"P{n}-{seq}\tf\t{seq}\t{loan_id}\t{booked}\t{part}\t{due}\n")
    add_bureau_and_alert(rows, rng, n, kind, disbursed, dues[stop - 1] if stop else None)


def add_bureau_and_alert(
    rows: Rows, rng: random.Random, n: int, kind: str, disbursed: date, missed: date | None
) -> None:
    risky = kind in ("arrears", "cured")
    score = max(300, min(900, round(rng.gauss(620 if risky else 700, 60))))
    delinquent = rng.randrange(3) if risky else int(rng.random() < 0.05)
    rows.bureau.append(
        f"B{n:09d}\t{disbursed} 08:00:00+00\t{disbursed}\t{score}\t{rng.randrange(6)}\t"
        f"{rng.randrange(1, 5)}\t{delinquent}\n"
    )
    if kind == "arrears" and missed is not None and missed + timedelta(days=30) <= AS_OF:
        rows.alerts.append(f"A{n}\tL{n:09d}\tdpd_30\t{missed + timedelta(days=30)}\n")


async def _one(data: str) -> AsyncIterator[bytes]:
    yield data.encode()


async def copy_rows(conn: asyncpg.Connection, rows: Rows) -> None:
    tables = [
        ("loan_terms", rows.terms, TERMS_COLUMNS),
        ("scheduled_instalment", rows.instalments, INSTALMENT_COLUMNS),
        ("allocation", rows.allocations, ALLOCATION_COLUMNS),
        ("bureau_point", rows.bureau, BUREAU_COLUMNS),
        ("alert_point", rows.alerts, ALERT_COLUMNS),
    ]
    async with conn.transaction():
        for table, lines, columns in tables:
            if lines:
                await conn.copy_to_table(table, source=_one("".join(lines)), columns=columns)


async def load(dsn: str, loans: int, seed: int) -> tuple[float, int]:
    """COPY the portfolio in batches; return the seconds it took and the rows written."""
    started = time.perf_counter()
    rng, written = random.Random(seed), 0
    conn = await asyncpg.connect(dsn)
    try:
        for first in range(0, loans, BATCH):
            rows = Rows()
            for n in range(first, min(first + BATCH, loans)):
                add_loan(rows, rng, n)
            await copy_rows(conn, rows)
            written += sum(len(v) for v in vars(rows).values())
        await conn.execute("INSERT INTO business_clock (id, business_date) VALUES (1, $1)", AS_OF)
        await conn.execute("VACUUM ANALYZE")  # as autovacuum would have, on a live database
    finally:
        await conn.close()
    return time.perf_counter() - started, written


# --- the champion ---------------------------------------------------------------------------


def trained_champion() -> tuple[ScorecardModel, dict[str, Any]]:
    """The champion the scoring tests train on the simulator's portfolio, and its upload body.

    Imported from ``tests/scoring_events.py`` by putting tests/ on ``sys.path`` at runtime (mypy
    finds it through ``mypy_path``): the bench then scores with exactly the model the tests
    serve, without copying the simulator-to-history plumbing that lives in tests/.
    """
    sys.path.insert(0, str(TESTS))
    from scoring_events import trained_on_simulator

    trained = trained_on_simulator()
    return trained.champion, trained.upload(trained.champion)


async def make_champion(db: Database, upload: dict[str, Any]) -> str:
    async with db.unit_of_work() as session:
        found = await registry.register(
            session, upload["document"], upload["report"], upload["reference"], actor="bench"
        )
        version = found.model.version
        await registry.promote(session, version, actor="bench", reason="bench champion")
    return version


# --- timing the parts of rescore ------------------------------------------------------------

HISTORIES = "history loading (SQL + row objects)"
SEGMENTS = "segments of the day (SQL)"
STORED = "stored scores (SQL)"
FEATURES = "features from histories, days ahead"
GROWN = "features from segments (numpy)"
MATRIX = "model's feature matrix"
COMPARE = "score_matrix + compare with stored"
REASONS = "reasons (score() per written row)"
WRITES = "writes, events built meanwhile"
EVENTS = "events into the outbox"
SAVED = "segments and change days saved"
MOVES = "next score move by DPD (vectorised)"
LOCKS = "row locks (FOR UPDATE)"
CHUNKS = "chunk ids (SQL)"
REST = "rest (run row, commit)"
GROUPS = {  # the brief's split of a run
    "loading (SQL)": (HISTORIES, SEGMENTS, STORED),
    "feature computation": (FEATURES, GROWN, MATRIX),
    "vectorised scoring": (COMPARE, MOVES),
    "reasons + writes": (REASONS, WRITES, EVENTS, SAVED),
    "batch bookkeeping + commit": (CHUNKS, LOCKS, REST),
}


@dataclass
class Split:
    """Seconds spent in each wrapped function, and the feature matrices the run scored."""

    spent: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    matrices: list[FloatArray] = field(default_factory=list)

    def sync(self, name: str, fn: Callable[P, R]) -> Callable[P, R]:
        def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[name] += time.perf_counter() - started

        return timed

    def coro(self, name: str, fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        async def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.spent[name] += time.perf_counter() - started

        return timed

    def keep(self, fn: Callable[P, FloatArray]) -> Callable[P, FloatArray]:
        def kept(*args: P.args, **kwargs: P.kwargs) -> FloatArray:
            matrix = fn(*args, **kwargs)
            self.matrices.append(matrix)
            return matrix

        return kept


@contextmanager
def instrumented(split: Split, model: type[ScorecardModel]) -> Iterator[None]:
    """Wrap what ``rescore`` calls, in its module (and the model's class), for one run."""
    r, n = rescoring, nightly
    wrappers: list[tuple[object, str, object]] = [
        (r, "load_histories", split.coro(HISTORIES, histories.load_histories)),
        (n, "segments_on", split.coro(SEGMENTS, segments.segments_on)),
        (r, "stored_scores", split.coro(STORED, r.stored_scores)),
        (n, "stored_scores", split.coro(STORED, r.stored_scores)),
        (r, "timeline", split.sync(FEATURES, timeline.timeline)),
        (n, "_grown", split.sync(GROWN, n._grown)),
        (r, "model_columns", split.keep(split.sync(MATRIX, timeline.model_columns))),
        (n, "model_columns", split.keep(split.sync(MATRIX, timeline.model_columns))),
        (r, "first_moves", split.sync(MOVES, timeline.first_moves)),
        (n, "first_moves", split.sync(MOVES, timeline.first_moves)),
        (r, "_moved", split.sync(COMPARE, r._moved)),
        (model, "score", split.sync(REASONS, model.score)),
        (r, "_write", split.coro(WRITES, r._write)),
        (r, "enqueue", split.coro(EVENTS, outbox.enqueue)),
        (r, "save_timelines", split.coro(SAVED, segments.save_timelines)),
        (n, "mark_evaluated", split.coro(SAVED, segments.mark_evaluated)),
        (n, "lock_loans", split.coro(LOCKS, histories.lock_loans)),
        (r, "lock_loans", split.coro(LOCKS, histories.lock_loans)),
        (batch, "loans_moving_on", split.coro(CHUNKS, segments.loans_moving_on)),
        (batch, "open_loan_ids", split.coro(CHUNKS, histories.open_loan_ids)),
    ]
    with ExitStack() as stack:
        for target, name, new in wrappers:
            stack.enter_context(mock.patch.object(target, name, new))
        yield


# --- the runs -------------------------------------------------------------------------------


@dataclass
class Run:
    as_of: date
    seconds: float
    loans: int  # open loans in the portfolio
    moved_on: int  # those the run took: features could move, or never evaluated
    written: int
    announced: int
    split: Split


async def time_run(
    db: Database, dsn: str, as_of: date, chunk: int, model: type[ScorecardModel]
) -> Run:
    """One full BatchRescorer run as of ``as_of``, timed and split."""
    run_id = f"bench {as_of}"
    async with db.unit_of_work() as session:
        await schedule_run(session, run_id, as_of)
    rescorer, split = BatchRescorer(db, chunk_size=chunk), Split()
    with instrumented(split, model):
        started = time.perf_counter()
        while await rescorer.step():
            pass
        seconds = time.perf_counter() - started
    conn = await asyncpg.connect(dsn)
    try:
        done = await conn.fetchrow(
            "SELECT loans_done, changed, status FROM rescore_run WHERE run_id = $1", run_id
        )
        written = await conn.fetchval("SELECT count(*) FROM score_history WHERE as_of = $1", as_of)
        loans = await conn.fetchval("SELECT count(*) FROM loan_terms WHERE closed_on IS NULL")
    finally:
        await conn.close()
    if done is None or done["status"] != "completed":
        raise RuntimeError(f"run {run_id} did not complete: {done}")
    return Run(as_of, seconds, loans, done["loans_done"], written, done["changed"], split)


@dataclass
class GcPauses:
    """Seconds the garbage collector's full (oldest generation) collections took."""

    seconds: float = 0.0
    count: int = 0
    _started: float = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.count += 1

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


async def a_day_passes(dsn: str) -> None:
    """What a live database does in the day between the first scoring and the next end of
    day: the outbox relay publishes the first run's 100,000 events and deletes them, and
    autovacuum analyses and vacuums the new rows (the planner otherwise thinks the score table
    empty and scans it whole, and the first reads set hint bits)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DELETE FROM outbox")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def bare_score_matrix(model: ScorecardModel, matrices: list[FloatArray], chunk: int) -> float:
    """Loans/s of ``score_matrix`` alone, one call per chunk as the batch makes (best of 10)."""
    matrix = np.concatenate(matrices)
    best = float("inf")
    for _ in range(10):
        started = time.perf_counter()
        for first in range(0, len(matrix), chunk):
            model.score_matrix(matrix[first : first + chunk])
        best = min(best, time.perf_counter() - started)
    return len(matrix) / best


def score_lines(loans: int) -> str:
    """N score-shaped rows with realistic JSON (4 reasons, 15 features)."""
    reasons = [{"code": f"R{i}", "description": "x" * 40, "points_lost": i} for i in range(4)]
    features = {f"feature_{i:02d}": 1.5 * i for i in range(15)}
    tail = f"\t{json.dumps(reasons)}\t{json.dumps(features)}\t7\t2026-03-31 02:00:00+00\n"
    return "".join(f"L{n:09d}\tbare\t{AS_OF}\t0.0123\t600\tB{tail}" for n in range(loans))


async def bare_copy_update(dsn: str, loans: int) -> tuple[float, float]:
    """Seconds of a bare COPY of N score rows, then of ``UPDATE ... SET score = score + 1``."""
    data = score_lines(loans)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE bare_score (LIKE score INCLUDING ALL)")
        started = time.perf_counter()
        await conn.copy_to_table("bare_score", source=_one(data), columns=SCORE_COLUMNS)
        copied = time.perf_counter() - started
        started = time.perf_counter()
        await conn.execute("UPDATE bare_score SET score = score + 1")
        updated = time.perf_counter() - started
        await conn.execute("DROP TABLE bare_score")
    finally:
        await conn.close()
    return copied, updated


# --- report ---------------------------------------------------------------------------------


def report_run(title: str, run: Run) -> None:
    rate = run.loans / run.seconds
    print(f"\n{title}: as of {run.as_of}, {run.loans:,} open loans, {run.moved_on:,} taken")
    print(f"  rows written {run.written:,} (score + history each), events {run.announced:,}")
    print(f"  total        {run.seconds:7.2f} s  {rate:>10,.0f} loans/s  (target >= {TARGET:,})")
    parts = defaultdict(float, run.split.spent)
    parts[REST] = run.seconds - sum(parts.values())
    groups = {name: sum(parts[p] for p in members) for name, members in GROUPS.items()}
    for name, seconds in groups.items():
        print_part(name, seconds, run)
        for part in sorted(GROUPS[name], key=lambda p: -parts[p]):
            if len(GROUPS[name]) > 1:
                print_part(f"  {part}", parts[part], run)
    worst = max(groups, key=lambda k: groups[k])
    print(f"  limited by: {worst} ({groups[worst] / run.seconds:.0%} of the run)")


def print_part(name: str, seconds: float, run: Run) -> None:
    cap = f"{run.loans / seconds:>12,.0f} loans/s alone" if seconds > 0 else ""
    print(f"    {name:<38} {seconds:7.2f} s {seconds / run.seconds:6.1%} {cap}")


def report_baselines(loans: int, bare_rate: float, copy_s: float, update_s: float) -> None:
    print("\nbare baselines, same run")
    print(f"  score_matrix alone, same matrix   {bare_rate:>12,.0f} loans/s")
    print(
        f"  asyncpg COPY of {loans:,} score rows  {copy_s:7.2f} s {loans / copy_s:>10,.0f} rows/s"
    )
    print(
        f"  UPDATE of those {loans:,} rows       {update_s:7.2f} s "
        f"{loans / update_s:>10,.0f} rows/s"
    )


# --- main -----------------------------------------------------------------------------------


async def bench(args: argparse.Namespace, root: Path) -> None:
    model, upload = trained_champion()
    server = EmbeddedPostgres(root / "pg").start()
    try:
        await create_database(server.url, "scoring")
        url = server.url_for("scoring")
        await migrate(url, MIGRATIONS)
        dsn = asyncpg_dsn(url)
        loaded, rows = await load(dsn, args.loans, args.seed)
        print(f"loaded {args.loans:,} loans ({rows:,} rows, 5 tables) in {loaded:.1f} s (COPY)")
        db = Database(url, pool_size=2)
        try:
            version = await make_champion(db, upload)
            print(f"champion {version} registered and promoted (service layer)")
            async with PeakRss() as rss:
                first = await time_run(db, dsn, AS_OF - timedelta(days=1), args.chunk, type(model))
                await a_day_passes(dsn)
                # As the service does after its start (shared.app): the bench's own heap (the
                # champion's training data) kept out of the collector's full passes.
                gc.collect()
                gc.freeze()
                gc_pauses = GcPauses()
                with gc_pauses:
                    nightly = await time_run(db, dsn, AS_OF, args.chunk, type(model))
        finally:
            await db.dispose()
        bare_rate = bare_score_matrix(model, nightly.split.matrices, args.chunk)
        copy_s, update_s = await bare_copy_update(dsn, args.loans)
    finally:
        server.stop()
    report_run("first scoring of every loan", first)
    report_run("next day's run", nightly)
    print(f"  of which full garbage collections: {gc_pauses.count}, {gc_pauses.seconds:.2f} s")
    report_baselines(args.loans, bare_rate, copy_s, update_s)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nRSS during the runs {rss.peak / 2**20:7.0f} MB  (peak of the process: {peak:.0f} MB)")
    print(f"cpus                {os.cpu_count()} (PostgreSQL and this process share them)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=5000, help="loans per transaction")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="postloan-bench-scoring-batch-"))
    try:
        asyncio.run(bench(args, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
