"""Use cases of the end-of-day batch (日终): request a run, drive it step by step, read it.

A run for business date D closes the day of every open loan, then runs the date rules, then
moves the business date on. Its steps, each recorded in ``eod_run.step`` in the same
transaction as its effect, so that a run stopped at any moment (process killed, database
restarted) resumes where it stood and applies nothing twice:

1. ``loans``   — chunk by chunk (``chunk_size`` loans by loan id, one transaction each), for
   every open loan, in this order: one day of penalty interest on overdue principal
   (``domain/penalty.py``) for the day D; DPD, bucket and status against D + 1, the business
   date the run moves to (``domain/buckets.py``: an instalment due on D and unpaid at its close
   is 1 day past due, in ``M1``, on D + 1), with one ``monitoring.delinquency.changed`` per
   bucket transition (its ``business_date`` is D + 1); the snapshot of the close of D (dated
   D) with that DPD, bucket and balances. A chunk is one transaction of two set-based
   statements: the penalty update, then one statement that reads each unpaid instalment
   once for DPD, events and snapshot together (a pass per purpose measured twice as slow).
   The chunk is also the unit of progress (``loans_done``) and of resumption (the last loan
   id done is recorded with it);
2. ``rules``   — the date-based early-warning rules;
3. ``advance`` — the business date moves to D + 1 and ``monitoring.eod.completed`` is sent.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters import business_date, eod_sql
from monitoring.adapters.eod_sql import EventContext
from monitoring.adapters.eod_sql import RunRecord as RunRecord  # the routes' run view
from monitoring.domain.buckets import BucketScale
from monitoring.service_layer import SOURCE
from monitoring.service_layer.rule_evaluation import evaluate_date_rules
from shared.db import Database
from shared.events import EodCompleted, make_event
from shared.messaging.outbox import enqueue
from shared.problems import Conflict, NotFound, Problem
from shared.telemetry import current_traceparent

log = logging.getLogger(__name__)

LOANS, RULES, ADVANCE, DONE = "loans", "rules", "advance", "done"
STEPS = (LOANS, RULES, ADVANCE)
ATTEMPTS = 5


@dataclass(frozen=True)
class EodConfig:
    scale: BucketScale
    chunk_size: int = 50_000


@dataclass(frozen=True)
class StopAt:
    """Stop a run as if the process died: after ``step`` ends, or after ``chunks`` of it."""

    step: str
    chunks: int | None = None


class Halted(Exception):
    """Raised inside a run stopped by :class:`StopAt`; the run stays ``running``."""


@dataclass(frozen=True)
class EodRequested:
    run: RunRecord
    #: False when the date is already done: nothing runs and nothing is emitted.
    to_run: bool


# --- requesting and reading ----------------------------------------------------------------


async def request_eod(db: Database, as_of: date) -> EodRequested:
    """Create the run for ``as_of`` (the business date), or find the one there is."""
    async with db.unit_of_work() as session:
        today = await business_date.current(session, for_update=True)
        existing = await eod_sql.run_for_date(session, as_of, for_update=True)
        if existing is not None:
            if existing.status == "completed":
                return EodRequested(existing, to_run=False)
            if existing.status == "failed":  # try again from the step it failed in
                existing = replace(existing, status="running", error=None)
                await eod_sql.save(session, existing)
            return EodRequested(existing, to_run=True)
        if today is None:
            raise Conflict("there is no business date yet: register a loan first")
        if as_of != today:
            raise Conflict(
                f"end of day runs for the business date {today}, not {as_of}",
                business_date=today.isoformat(),
            )
        run_id = str(uuid.uuid4())
        total = await eod_sql.count_open_loans(session)
        await eod_sql.create_run(session, run_id=run_id, as_of=as_of, step=LOANS, loans_total=total)
        run = await eod_sql.get_run(session, run_id)
        assert run is not None
        return EodRequested(run, to_run=True)


@dataclass(frozen=True)
class RunSummary:
    buckets: list[tuple[str, int, Decimal]]  # bucket, loans, outstanding principal
    penalty_accrued: Decimal


async def read_run(
    session: AsyncSession, run_id: str, scale: BucketScale
) -> tuple[RunRecord, RunSummary | None]:
    """A run's progress, with its summary once completed."""
    run = await eod_sql.get_run(session, run_id)
    if run is None:
        raise NotFound("end-of-day run", run_id)
    if run.status != "completed":
        return run, None
    totals = {b: (b, n, s) for b, n, s in await eod_sql.bucket_totals(session, run.as_of)}
    names = [*scale.names, *sorted(set(totals) - set(scale.names))]
    buckets = [totals.get(name, (name, 0, Decimal("0.00"))) for name in names]
    return run, RunSummary(buckets, run.penalty)


def progress(run: RunRecord) -> float:
    """The share of the run done, the loans being the work."""
    if run.status == "completed" or run.step != LOANS:
        return 1.0
    return round(min(run.loans_done / max(run.loans_total, 1), 1.0), 4)


async def current_business_date(session: AsyncSession) -> date:
    today = await business_date.current(session)
    if today is None:
        raise Problem(404, "No business date", "the business date starts with the first loan")
    return today


# --- driving a run -------------------------------------------------------------------------


async def run_eod(
    db: Database, run_id: str, config: EodConfig, *, stop: StopAt | None = None
) -> RunRecord | None:
    """Drive a run to its end from the step it stands at; None if another process holds it.

    Failures are recorded on the run (``status: failed``), which a new request resumes.
    """
    async with db.engine.connect() as raw:
        conn = await raw.execution_options(isolation_level="AUTOCOMMIT")
        if not await eod_sql.try_lock(conn):
            log.info("end of day %s: another process is running it", run_id)
            return None
        try:
            await _drive(db, run_id, config, stop)
        except Halted:
            log.warning("end of day %s: stopped on request", run_id)
        except Exception as exc:
            log.exception("end of day %s failed", run_id)
            await _fail(db, run_id, exc)
        finally:
            try:
                await eod_sql.unlock(conn)
            except BaseException:  # cancelled or broken: never pool a connection holding it
                await raw.invalidate()
                raise
    async with db.unit_of_work() as session:
        return await eod_sql.get_run(session, run_id)


async def _drive(db: Database, run_id: str, config: EodConfig, stop: StopAt | None) -> None:
    while True:
        async with db.unit_of_work() as session:
            run = await eod_sql.get_run(session, run_id)
        if run is None or run.status != "running" or run.step == DONE:
            return
        step = run.step
        if step == LOANS:
            await _chunked(db, run_id, config, stop if stop and stop.step == step else None)
        elif step == RULES:
            await _in_step(db, run_id, RULES, _rules)
        elif step == ADVANCE:
            await _in_step(db, run_id, ADVANCE, _advance)
        else:
            raise RuntimeError(f"unknown end-of-day step {step!r}")
        if stop is not None and stop.step == step and stop.chunks is None:
            raise Halted(step)


async def _chunked(db: Database, run_id: str, config: EodConfig, stop: StopAt | None) -> None:
    """Close the loans one chunk (one transaction) at a time."""
    chunks = 0
    while True:
        finished = await _retrying(lambda: _one_chunk(db, run_id, config))
        if finished:
            return
        chunks += 1
        if stop is not None and stop.chunks is not None and chunks >= stop.chunks:
            raise Halted(f"after {chunks} chunks")


async def _one_chunk(db: Database, run_id: str, config: EodConfig) -> bool:
    """Close the next chunk of loans; True when there was none left."""
    async with db.unit_of_work() as session:
        run = await eod_sql.get_run(session, run_id, for_update=True)
        if run is None or run.step != LOANS:
            return True
        chunk = await eod_sql.next_chunk(session, after=run.cursor, size=config.chunk_size)
        if chunk is None:
            await eod_sql.save(session, run.at(RULES))
            return True
        context = EventContext(SOURCE, datetime.now(UTC), current_traceparent())
        closed = await eod_sql.close_loans(
            session, as_of=run.as_of, chunk=chunk, scale=config.scale, context=context
        )
        await eod_sql.save(
            session,
            replace(
                run,
                cursor=chunk.upto,
                penalty=run.penalty + closed.penalty,
                transitions=run.transitions + closed.transitions,
                loans_done=run.loans_done + chunk.open_loans,
            ),
        )
        return False


async def _retrying(attempt: Callable[[], Awaitable[bool]]) -> bool:
    for n in range(1, ATTEMPTS + 1):
        try:
            return await attempt()
        except Exception as exc:
            # A deadlock or serialization failure: the chunk met a concurrent payment.
            code = eod_sql.concurrent_change(exc)
            if code is None or n == ATTEMPTS:
                raise
            log.warning("end of day: chunk met a concurrent change (%s); retrying", code)
            await asyncio.sleep(0.05 * n)
    raise AssertionError("unreachable")


StepWork = Callable[[AsyncSession, RunRecord], Awaitable[RunRecord]]


async def _in_step(db: Database, run_id: str, step: str, work: StepWork) -> None:
    async with db.unit_of_work() as session:
        run = await eod_sql.get_run(session, run_id, for_update=True)
        if run is None or run.step != step:
            return
        run = await work(session, run)
        await eod_sql.save(session, run, finished=run.step == DONE)


async def _rules(session: AsyncSession, run: RunRecord) -> RunRecord:
    raised = await evaluate_date_rules(session, run.as_of)
    log.info("end of day %s: %d alerts raised by date rules", run.as_of, raised)
    return run.at(ADVANCE)


async def _advance(session: AsyncSession, run: RunRecord) -> RunRecord:
    tomorrow = run.as_of + timedelta(days=1)
    if not await business_date.move_to(session, expected=run.as_of, new=tomorrow):
        raise RuntimeError(f"the business date is no longer {run.as_of}")
    payload = EodCompleted(
        run_id=uuid.UUID(run.run_id),
        as_of=run.as_of,
        business_date=tomorrow,
        loans_total=run.loans_total,
        transitions=run.transitions,
    )
    await enqueue(session, [make_event(payload, source=SOURCE, subject=run.as_of.isoformat())])
    return replace(run.at(DONE), status="completed")


async def _fail(db: Database, run_id: str, exc: Exception) -> None:
    try:
        async with db.unit_of_work() as session:
            run = await eod_sql.get_run(session, run_id, for_update=True)
            if run is not None:
                await eod_sql.save(session, replace(run, status="failed", error=repr(exc)[:500]))
    except Exception:  # the database is away: the run stays running, resumed at start-up
        log.exception("end of day %s: could not record the failure", run_id)


async def interrupted_runs(db: Database) -> list[str]:
    """Runs left ``running`` by a process that stopped (to resume at start-up)."""
    async with db.unit_of_work() as session:
        return await eod_sql.runs_in_status(session, "running")


# --- the background tasks of a service -----------------------------------------------------


class EodRunner:
    """Runs each requested run in a background task of the service, at most one per run.

    Tasks are also added to ``tasks`` (the service runtime's list), so that they outlive the
    request that started them and are cancelled at shutdown; a cancelled run resumes later.
    """

    def __init__(self, db: Database, config: EodConfig, tasks: list[asyncio.Task[None]]) -> None:
        self._db = db
        self.config = config
        self._tasks = tasks
        self._running: dict[str, asyncio.Task[None]] = {}

    def start(self, run_id: str) -> None:
        if run_id in self._running:
            return
        task = asyncio.create_task(self._run(run_id), name=f"eod-{run_id}")
        self._running[run_id] = task
        self._tasks.append(task)
        task.add_done_callback(lambda t: self._forget(run_id, t))

    def _forget(self, run_id: str, task: asyncio.Task[None]) -> None:
        self._running.pop(run_id, None)
        if task in self._tasks:
            self._tasks.remove(task)

    async def _run(self, run_id: str) -> None:
        try:
            await run_eod(self._db, run_id, self.config)
        except Exception:  # recorded on the run when the database allowed it
            log.exception("end of day %s: the run stopped", run_id)

    async def resume_interrupted(self) -> None:
        for run_id in await interrupted_runs(self._db):
            log.info("end of day %s: resuming an interrupted run", run_id)
            self.start(run_id)
