"""The body of every ``migrations/env.py``: online migrations over asyncpg.

A service's ``env.py`` is two lines: import its metadata and call :func:`run`.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.sql.sqltypes import AutoString


def only_own_tables(
    _obj: object, _name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Autogenerate ignores tables it did not declare (shared's outbox and inbox live here too)."""
    return not (type_ == "table" and reflected and compare_to is None)


def _render_item(type_: str, obj: object, _context: AutogenContext) -> str | Literal[False]:
    """Render SQLModel's AutoString as plain ``sa.String`` so revisions import no sqlmodel."""
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String({obj.length})" if obj.length else "sa.String()"
    return False


def _migrate(connection: Connection, metadata: MetaData | None, version_table: str) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=version_table,
        compare_type=True,
        include_object=only_own_tables,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(metadata: MetaData | None) -> None:
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None, "sqlalchemy.url must be set by shared.db.upgrade"
    version_table = config.attributes.get("version_table", "alembic_version")
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            # A lock per database, so that replicas starting together migrate one at a time.
            await conn.exec_driver_sql("SELECT pg_advisory_lock(hashtext('postloan-migrations'))")
            try:
                await conn.run_sync(_migrate, metadata, version_table)
                await conn.commit()
            finally:
                await conn.exec_driver_sql(
                    "SELECT pg_advisory_unlock(hashtext('postloan-migrations'))"
                )
                await conn.commit()
    finally:
        await engine.dispose()


def run(metadata: MetaData | None) -> None:
    """Run the pending migrations of the current Alembic context (online mode only)."""
    if context.is_offline_mode():
        raise RuntimeError("PostLoan migrations run online, at service start-up")
    asyncio.run(_run_async(metadata))
