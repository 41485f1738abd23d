"""The nightly batch moves scores on from feature segments; every day, each open loan's stored
score under each live model equals a full rebuild of its features from its history.

The service layer on a real database, day by day as the service runs it: the day's payments
and bureau reports are recorded and their loans rescored from their histories (as the
consumer does), then the end of day's batch takes only the loans whose features can move.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

import scoring
from postloan_testing.plugin import PostgresUnderTest
from scoring.adapters.histories import load_histories, open_loan_ids
from scoring.adapters.scores_sql import SCORE
from scoring.adapters.segments import loans_moving_on
from scoring.domain.default import score_or_default
from scoring.domain.features import features_as_of
from scoring.service_layer import registry
from scoring.service_layer.batch import BatchRescorer, schedule_run
from scoring.service_layer.facts import (
    close_loan,
    record_allocation,
    record_bureau,
    record_loan,
)
from scoring.service_layer.nightly import move_on
from scoring.service_layer.rescoring import rescore
from scoring_events import Trained, accepted, applied, bureau
from shared.db import Database, asyncpg_dsn, migrate
from shared.events import LoanAccepted, Payload

D0 = date(2025, 11, 20)
DAYS = 150
LOANS = 24
CENT = Decimal("0.01")


@pytest.fixture
async def db(database_url: str, trained: Trained) -> AsyncIterator[Database]:
    await migrate(database_url, Path(scoring.__file__).parent / "migrations")
    database = Database(database_url)
    async with database.unit_of_work() as session:
        for model in (trained.champion, trained.challenger):
            body = trained.upload(model)
            await registry.register(
                session, body["document"], body["report"], body["reference"], actor="test"
            )
        await registry.promote(session, trained.champion.version, actor="test", reason=None)
    try:
        yield database
    finally:
        await database.dispose()


def portfolio(rng: random.Random) -> tuple[list[LoanAccepted], dict[date, list[Payload]]]:
    """Loans disbursed over a month; each pays on time, late by up to 40 days, partly, or
    stops, and bureau reports arrive now and then."""
    loans = [accepted(f"N-{n:02d}", disbursed_on=D0 + timedelta(days=n)) for n in range(LOANS)]
    facts: dict[date, list[Payload]] = {}
    for n, loan in enumerate(loans):
        assert loan.schedule is not None
        stops = rng.randrange(2, 6) if n % 4 == 3 else 99
        for line in loan.schedule:
            if line.seq >= stops:
                break
            late = 0 if n % 4 == 0 else rng.choice((0, 3, 12, 40))
            share = Decimal(1) if n % 4 != 2 or line.seq % 2 else Decimal("0.5")
            day = line.due_on + timedelta(days=late)
            facts.setdefault(day, []).append(
                applied(loan.loan_id, f"P-{loan.loan_id}-{line.seq}", day, seq=line.seq,
                        principal=(line.principal * share).quantize(CENT),
                        interest=line.interest)
            )  # fmt: skip
        for k in range(rng.randrange(3)):
            day = loan.disbursed_on + timedelta(days=rng.randrange(10, DAYS))
            report = bureau(f"B-{loan.loan_id}", day, score=rng.randrange(450, 800), inquiries=k)
            facts.setdefault(day, []).append(report)
    return loans, facts


async def registered(session: AsyncSession, loans: list[LoanAccepted]) -> None:
    """The loans recorded and scored from their histories as of ``D0``, as the consumer does."""
    for loan in loans:
        await record_loan(session, loan)
    await rescore(session, [loan.loan_id for loan in loans], D0)


async def record_day(db: Database, day: date, payloads: list[Payload]) -> None:
    """The day's facts and an immediate rescoring of their loans, as the consumer does."""
    touched: set[str] = set()
    async with db.unit_of_work() as session:
        for payload in payloads:
            if hasattr(payload, "allocation"):
                await record_allocation(session, payload)  # type: ignore[arg-type]
                touched.add(payload.loan_id)  # type: ignore[attr-defined]
            else:
                await record_bureau(session, payload, day)  # type: ignore[arg-type]
                touched.add(payload.borrower_id.removeprefix("B-"))  # type: ignore[attr-defined]
        await rescore(session, sorted(touched), day)


async def end_of_day(db: Database, day: date) -> int:
    """The batch as of ``day`` (the new business date), in chunks; returns the loans taken."""
    taken, after = 0, ""
    while True:
        async with db.unit_of_work() as session:
            ids = await loans_moving_on(session, day, after=after, limit=7)
            if not ids:
                return taken
            await move_on(session, ids, day)
        taken, after = taken + len(ids), ids[-1]


async def assert_scores_equal_rebuilds(db: Database, day: date, trained: Trained) -> None:
    async with db.unit_of_work() as session:
        ids = await open_loan_ids(session, after="", limit=1000)
        histories = await load_histories(session, ids)
        rows = (await session.execute(sa.select(SCORE))).mappings().all()
    stored = {(r["loan_id"], r["model_version"]): (r["score"], r["tier"]) for r in rows}
    for history in histories:
        values = features_as_of(history, day)
        for model in (trained.champion, trained.challenger):
            rebuilt = score_or_default(model, values)  # a loan in default: PD 1, tier E
            key = (history.loan_id, model.version)
            assert stored[key] == (rebuilt.score, rebuilt.tier), (key, day, values)


async def test_each_days_scores_equal_full_rebuilds(db: Database, trained: Trained) -> None:
    loans, facts = portfolio(random.Random(4))
    async with db.unit_of_work() as session:
        await registered(session, loans)
    taken_per_day = []
    for offset in range(DAYS):
        day = D0 + timedelta(days=offset)
        await record_day(db, day, facts.get(day, []))
        taken_per_day.append(await end_of_day(db, day + timedelta(days=1)))
        await assert_scores_equal_rebuilds(db, day + timedelta(days=1), trained)
    # The batch took only loans whose features could move: on most days far fewer than all.
    quiet = sorted(taken_per_day)[len(taken_per_day) // 2]
    assert quiet < LOANS // 2, taken_per_day
    assert max(taken_per_day) > 0


async def test_a_closed_loan_is_taken_no_more_and_its_segments_go(
    db: Database, trained: Trained
) -> None:
    async with db.unit_of_work() as session:
        await registered(session, [accepted(f"C-{n}", disbursed_on=D0) for n in range(2)])
        await close_loan(session, "C-0", D0 + timedelta(days=5))
    # Nothing paid: both fall behind after the first due date; only the open one is taken.
    assert await end_of_day(db, D0 + timedelta(days=40)) == 1
    async with db.unit_of_work() as session:
        left = await session.scalar(
            sa.text("SELECT count(*) FROM feature_segment WHERE loan_id = 'C-0'")
        )
    assert left == 0


async def test_a_batch_step_redone_after_its_commit_was_lost_announces_under_the_same_ids(
    db: Database, database_url: str, postgres: PostgresUnderTest
) -> None:
    loans = [accepted(f"R-{n}", disbursed_on=D0) for n in range(3)]
    async with db.unit_of_work() as session:
        await registered(session, loans)
        # Nothing paid by then: every loan is past due and its score moves.
        await schedule_run(session, "eod-R", D0 + timedelta(days=40))
    await db.dispose()
    before_the_step = await copy_of(postgres, database_url)
    first = await announced_by_a_step(database_url)
    # The copy is the database as a crash that lost the step's commit leaves it.
    again = await announced_by_a_step(before_the_step)
    assert len(first) == len(loans)
    assert again == first


async def copy_of(postgres: PostgresUnderTest, database_url: str) -> str:
    name = f"copy_{database_url.rsplit('/', 1)[-1]}"
    conn = await asyncpg.connect(asyncpg_dsn(postgres.server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{database_url.rsplit("/", 1)[-1]}"')
    finally:
        await conn.close()
    return postgres.url_for(name)


async def announced_by_a_step(url: str) -> dict[str, str]:
    """The ids of the ``score.updated`` events one batch step adds to the outbox, by loan."""
    query = sa.text(
        "SELECT event_id::text, convert_from(body, 'UTF8')::jsonb -> 'data' ->> 'loan_id'"
        " FROM outbox"
        " WHERE subject LIKE '%.score.updated'"
    )
    database = Database(url)
    try:
        async with database.unit_of_work() as session:
            before = set((await session.execute(query)).all())
        assert await BatchRescorer(database).step()
        async with database.unit_of_work() as session:
            after = set((await session.execute(query)).all())
    finally:
        await database.dispose()
    return {loan_id: event_id for event_id, loan_id in after - before}


REFUSE_SCORE_HISTORY = (
    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql"
    " AS $$ BEGIN RAISE EXCEPTION 'score history refused'; END $$",
    "CREATE TRIGGER refuse BEFORE INSERT ON score_history FOR EACH ROW EXECUTE FUNCTION refuse()",
)


async def test_a_batch_step_whose_score_write_fails_fails_whole_and_changes_nothing(
    db: Database,
) -> None:
    async with db.unit_of_work() as session:
        await registered(session, [accepted(f"F-{n}", disbursed_on=D0) for n in range(3)])
        await schedule_run(session, "eod-F", D0 + timedelta(days=40))
        for statement in REFUSE_SCORE_HISTORY:  # the write runs while events are built
            await session.execute(sa.text(statement))
    before = await state_of(db)
    with pytest.raises(asyncpg.PostgresError, match="score history refused"):
        await BatchRescorer(db).step()
    assert await state_of(db) == before


async def state_of(db: Database) -> tuple[object, ...]:
    """The scores, the outbox and the batch run's progress."""
    async with db.unit_of_work() as session:
        scores = (await session.execute(sa.text("SELECT * FROM score ORDER BY 1, 2"))).all()
        outbox = await session.scalar(sa.text("SELECT count(*) FROM outbox"))
        run = (await session.execute(sa.text("SELECT cursor, status FROM rescore_run"))).all()
    return scores, outbox, run
