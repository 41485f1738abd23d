"""The engine hands out live connections after PostgreSQL restarts (no pre-ping needed)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from devstack.embedded import EmbeddedPostgres
from shared.db import Database, create_database


async def test_units_of_work_after_a_postgres_restart_get_live_connections(
    isolated_postgres: EmbeddedPostgres,
) -> None:
    await create_database(isolated_postgres.url, "service")
    db = Database(isolated_postgres.url_for("service"), pool_size=2)
    try:
        async with db.unit_of_work() as first, db.unit_of_work() as second:
            pids = {
                await s.scalar(text("SELECT pg_backend_pid()")) for s in (first, second)
            }  # two connections in the pool, both closed by the restart below

        def restart() -> None:
            isolated_postgres.kill()
            isolated_postgres.start()

        await asyncio.to_thread(restart)  # the event loop runs meanwhile, as in a service
        for _ in range(4):
            async with db.unit_of_work() as session:
                pid = await session.scalar(text("SELECT pg_backend_pid()"))
                assert pid not in pids
    finally:
        await db.dispose()
