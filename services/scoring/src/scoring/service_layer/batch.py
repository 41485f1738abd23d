"""The portfolio rescoring after each end of day: chunked, resumable, one replica at a time.

``eod.completed`` schedules a run in the consumer's transaction; a background worker takes it
chunk by chunk, each chunk one transaction that locks the run row (``SKIP LOCKED``: another
replica waits its turn rather than doing the same chunk), moves the chunk's loans on to the
day (``nightly.move_on``: only loans whose features can move that day are taken; a new live
model's run takes every open loan) and moves the cursor. A killed worker resumes from the
cursor; a newer end of day supersedes an older run still pending, since scores as of the newer
date replace its work. When a run
completes, the drift of every live model is checked.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters import facts_sql, runs_sql
from scoring.adapters.histories import open_loan_ids
from scoring.adapters.runs_sql import RescoreRun
from scoring.adapters.segments import loans_moving_on
from scoring.service_layer.facts import business_date
from scoring.service_layer.nightly import move_on
from scoring.service_layer.rescoring import Announcing
from shared.db import Database

log = logging.getLogger(__name__)

AfterRun = Callable[[AsyncSession, date], Awaitable[None]]


async def schedule_run(
    session: AsyncSession,
    run_id: str,
    as_of: date,
    *,
    every_loan: bool = False,
    announce_all: bool = False,
) -> None:
    """Schedule a rescoring as of ``as_of``: of the loans whose features can move by then
    (after an end of day), or of ``every_loan`` (a new live model scores them all)."""
    await runs_sql.insert_run(
        session, run_id, as_of, every_loan=every_loan, announce_all=announce_all
    )


async def rescore_portfolio(session: AsyncSession, why: str, *, new_champion: bool) -> None:
    """Rescore every open loan soon (a new live model must score the loans scored before it);
    after a change of champion, announce every loan's score under the new one."""
    as_of = await business_date(session) or await facts_sql.last_disbursement(session)
    if as_of is not None:
        run_id = f"{why} #{uuid.uuid4().hex[:12]}"
        await schedule_run(session, run_id, as_of, every_loan=True, announce_all=new_champion)


async def recent_runs(session: AsyncSession, limit: int) -> list[RescoreRun]:
    return await runs_sql.recent_runs(session, limit)


@dataclass
class BatchRescorer:
    db: Database
    chunk_size: int = 5000
    poll_interval_s: float = 1.0
    after_run: AfterRun | None = None

    async def run_forever(self) -> None:
        while True:
            try:
                while await self.step():
                    pass
            except Exception as exc:  # the run's cursor is safe; try again shortly
                log.warning("batch rescoring interrupted: %s", exc)
            await asyncio.sleep(self.poll_interval_s)

    async def step(self) -> bool:
        """One chunk of the oldest pending run; False when there is nothing to do."""
        async with self.db.unit_of_work() as session:
            # A step whose commit a crash of PostgreSQL loses is done again: the run's cursor
            # and status commit with its scores and events, and the redone step computes the
            # same scores (an event the relay had already sent goes out once more, under the
            # same id: ``Announcing``). So no step waits for its WAL to reach the disk
            # (PostgreSQL writes it within a second): flushing a night's WAL was a tenth of
            # the nightly run here.
            await runs_sql.without_waiting_for_disk(session)
            run = await runs_sql.take_oldest_running(session)
            if run is None:
                return False
            if await self._superseded(session, run.run_id, run.as_of):
                return True
            ids = await self._chunk(session, run)
            if not ids:
                await self._complete(session, run.run_id, run.as_of)
                return True
            announcing = Announcing(every_score=run.announce_all, run_id=run.run_id)
            done = await move_on(session, ids, run.as_of, announcing=announcing)
            await runs_sql.advance(
                session, run.run_id, cursor=ids[-1], loans=done.loans, changed=done.changed
            )
            return True

    async def _chunk(self, session: AsyncSession, run: RescoreRun) -> list[str]:
        if run.every_loan:
            return await open_loan_ids(session, after=run.cursor, limit=self.chunk_size)
        return await loans_moving_on(session, run.as_of, after=run.cursor, limit=self.chunk_size)

    async def _superseded(self, session: AsyncSession, run_id: str, as_of: date) -> bool:
        newer = await runs_sql.newer_running(session, as_of)
        if newer:
            await runs_sql.finish(session, run_id, "superseded")
        return newer

    async def _complete(self, session: AsyncSession, run_id: str, as_of: date) -> None:
        await runs_sql.finish(session, run_id, "completed")
        log.info("batch rescoring %s as of %s completed", run_id, as_of)
        if self.after_run is not None:
            await self.after_run(session, as_of)
