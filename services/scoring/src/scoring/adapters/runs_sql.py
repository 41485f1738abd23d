"""SQL of the batch rescorings after each end of day: runs, their cursor and outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters.tables import Base, RescoreRunRow

RUN = Base.metadata.tables[RescoreRunRow.__tablename__]


@dataclass(frozen=True)
class RescoreRun:
    """A run as stored: what it rescores as of when, and how far it got."""

    run_id: str
    as_of: date
    status: str  # running | completed | superseded
    cursor: str  # the last loan id done
    announce_all: bool
    every_loan: bool
    loans_done: int
    changed: int
    started_at: datetime
    finished_at: datetime | None


async def insert_run(
    session: AsyncSession, run_id: str, as_of: date, *, every_loan: bool, announce_all: bool
) -> None:
    """A running run, unless one of that id exists already."""
    await session.execute(
        insert(RUN)
        .values(
            run_id=run_id,
            as_of=as_of,
            status="running",
            every_loan=every_loan,
            announce_all=announce_all,
        )
        .on_conflict_do_nothing(index_elements=["run_id"])
    )


async def recent_runs(session: AsyncSession, limit: int) -> list[RescoreRun]:
    rows = await session.execute(sa.select(RUN).order_by(RUN.c.started_at.desc()).limit(limit))
    return [RescoreRun(**r) for r in rows.mappings()]


async def last_completed_as_of(session: AsyncSession) -> date | None:
    found: date | None = await session.scalar(
        sa.select(sa.func.max(RUN.c.as_of)).where(RUN.c.status == "completed")
    )
    return found


async def without_waiting_for_disk(session: AsyncSession) -> None:
    """This transaction's commit does not wait for its WAL to reach the disk."""
    await session.execute(sa.text("SET LOCAL synchronous_commit = off"))


async def take_oldest_running(session: AsyncSession) -> RescoreRun | None:
    """The oldest running run, locked; None when there is none or another replica has it."""
    query = (
        sa.select(RUN)
        .where(RUN.c.status == "running")
        .order_by(RUN.c.as_of, RUN.c.started_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    row = (await session.execute(query)).mappings().first()
    return None if row is None else RescoreRun(**row)


async def advance(
    session: AsyncSession, run_id: str, *, cursor: str, loans: int, changed: int
) -> None:
    """Move a run's cursor on, counting the loans it did and the scores that moved."""
    await session.execute(
        sa.update(RUN)
        .where(RUN.c.run_id == run_id)
        .values(
            cursor=cursor,
            loans_done=RUN.c.loans_done + loans,
            changed=RUN.c.changed + changed,
        )
    )


async def newer_running(session: AsyncSession, as_of: date) -> bool:
    """Whether a run as of a later date is pending."""
    newer = await session.scalar(
        sa.select(sa.func.count())
        .select_from(RUN)
        .where(RUN.c.status == "running", RUN.c.as_of > as_of)
    )
    return bool(newer)


async def finish(session: AsyncSession, run_id: str, status: str) -> None:
    """End a run as ``completed`` or ``superseded``, at the database's time."""
    await session.execute(
        sa.update(RUN)
        .where(RUN.c.run_id == run_id)
        .values(status=status, finished_at=sa.func.now())
    )
