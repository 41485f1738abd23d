"""Telling infrastructure failures (retry forever) from event failures (dead-letter in the end).

The errors are real ones, raised by a real PostgreSQL through SQLAlchemy and asyncpg.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import nats.errors
import pytest
import sqlalchemy as sa

from devstack.embedded import free_port
from shared.db import Database
from shared.messaging.errors import is_transient


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=2)
    async with database.unit_of_work() as session:
        await session.execute(sa.text("CREATE TABLE t (id int PRIMARY KEY, v int)"))
        await session.execute(sa.text("INSERT INTO t VALUES (1, 0)"))
    yield database
    await database.dispose()


async def raised(db: Database, sql: str) -> BaseException:
    async def run() -> None:
        async with db.unit_of_work() as session:
            await session.execute(sa.text(sql))

    return await error_of(run)


async def error_of(work: Callable[[], Awaitable[None]]) -> BaseException:
    try:
        await work()
    except Exception as exc:  # any error: it is what we classify
        return exc
    raise AssertionError("no error raised")


async def test_a_database_that_refuses_connections_is_transient() -> None:
    down = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none")
    try:
        error = await raised(down, "SELECT 1")
    finally:
        await down.dispose()
    assert is_transient(error)


async def test_a_connection_terminated_by_the_server_is_transient(db: Database) -> None:
    async def query_after_termination() -> None:
        async with db.unit_of_work() as session:
            pid = (await session.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()
            async with db.unit_of_work() as other:
                await other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await session.execute(sa.text("SELECT 1"))

    assert is_transient(await error_of(query_after_termination))


async def test_a_serialization_failure_is_transient(db: Database) -> None:
    async def update_after_a_concurrent_update() -> None:
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                await conn.execute(sa.text("SELECT v FROM t WHERE id = 1"))
                async with db.unit_of_work() as other:
                    await other.execute(sa.text("UPDATE t SET v = v + 1 WHERE id = 1"))
                await conn.execute(sa.text("UPDATE t SET v = v + 1 WHERE id = 1"))

    assert is_transient(await error_of(update_after_a_concurrent_update))


async def test_a_constraint_violation_is_the_events_fault(db: Database) -> None:
    assert not is_transient(await raised(db, "INSERT INTO t VALUES (1, 0)"))


async def test_a_missing_table_is_the_events_fault(db: Database) -> None:
    assert not is_transient(await raised(db, "SELECT * FROM missing"))


def test_a_handlers_own_error_is_the_events_fault() -> None:
    assert not is_transient(ValueError("no such borrower"))
    assert not is_transient(KeyError("B-1"))


def test_nats_being_away_is_transient() -> None:
    assert is_transient(nats.errors.ConnectionClosedError())
    assert is_transient(nats.errors.OutboundBufferLimitError())


def test_an_error_raised_because_of_an_outage_is_transient() -> None:
    error = RuntimeError("could not load the loan")
    error.__cause__ = ConnectionResetError("peer went away")
    assert is_transient(error)
