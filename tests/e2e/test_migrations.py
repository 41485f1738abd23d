"""Every service's migrations create exactly the tables its models declare."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import collections_service.adapters.tables
import monitoring.adapters.tables
import notify.adapters.tables
import scoring.adapters.tables
from postloan_testing.plugin import PostgresUnderTest
from shared.alembic_env import only_own_tables
from shared.db import migrate

MODELS = {
    "monitoring": monitoring.adapters.tables,
    "scoring": scoring.adapters.tables,
    "collections": collections_service.adapters.tables,
    "notify": notify.adapters.tables,
}


def _diff(connection: Connection, metadata: MetaData) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"include_object": only_own_tables, "compare_type": True}
    )
    return list(compare_metadata(context, metadata))


@pytest.mark.parametrize("service", list(MODELS))
async def test_migrating_a_fresh_database_matches_the_models(
    postgres: PostgresUnderTest, service: str
) -> None:
    module = MODELS[service]
    url = await postgres.new_database(service)
    migrations = Path(module.__file__ or "").parent.parent / "migrations"
    await migrate(url, migrations)
    await migrate(url, migrations)  # a second start finds nothing to do
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_diff, module.Base.metadata)
    finally:
        await engine.dispose()
    assert diff == []
