"""A state folder from an older version is migrated (and says how); a newer one is refused."""

import asyncio
from pathlib import Path

import asyncpg
import pytest
from alembic import command

from devstack.config import SERVICES
from devstack.upgrade import NewerStateFolder, migrations_of, upgrade_databases
from postloan_testing.plugin import PostgresUnderTest
from shared.db import SHARED_MIGRATIONS, alembic_config, asyncpg_dsn, upgrade

MONITORING = next(c for c in SERVICES if c.name == "monitoring")


async def older_monitoring_database(postgres: PostgresUnderTest) -> str:
    """A database as the previous release left it: monitoring's migrations up to 0002."""
    url = await postgres.new_database("older")
    await asyncio.to_thread(upgrade, SHARED_MIGRATIONS, url, version_table="shared_alembic_version")
    config = alembic_config(migrations_of(MONITORING)[1].folder, url, "alembic_version")
    await asyncio.to_thread(command.upgrade, config, "0002")  # alembic runs its own loop
    return url


async def revisions(url: str, table: str) -> list[str]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return [r[0] for r in await conn.fetch(f"SELECT version_num FROM {table}")]
    finally:
        await conn.close()


async def test_an_older_database_is_migrated_to_head_and_the_revisions_are_said(
    postgres: PostgresUnderTest, tmp_path: Path
) -> None:
    url = await older_monitoring_database(postgres)
    head = migrations_of(MONITORING)[1].script().get_current_head()
    assert head is not None
    assert head != "0002"

    applied = await upgrade_databases([MONITORING], {"monitoring": url}, state_dir=tmp_path)

    assert [a.describe() for a in applied] == [
        f"monitoring migrations 0002 → {head} (alembic upgrade)"
    ]
    assert await revisions(url, "alembic_version") == [head]
    assert await upgrade_databases([MONITORING], {"monitoring": url}, state_dir=tmp_path) == []


async def test_a_fresh_database_is_left_to_the_service(
    postgres: PostgresUnderTest, tmp_path: Path
) -> None:
    url = await postgres.new_database("fresh")
    assert await upgrade_databases([MONITORING], {"monitoring": url}, state_dir=tmp_path) == []


async def test_a_database_from_a_newer_version_is_refused_naming_folder_and_revisions(
    postgres: PostgresUnderTest, tmp_path: Path
) -> None:
    url = await older_monitoring_database(postgres)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    await conn.execute("UPDATE alembic_version SET version_num = '0042'")
    await conn.close()
    head = migrations_of(MONITORING)[1].script().get_current_head()

    with pytest.raises(NewerStateFolder) as refused:
        await upgrade_databases([MONITORING], {"monitoring": url}, state_dir=tmp_path)

    message = str(refused.value)
    assert f"the state folder {tmp_path} was written by a newer PostLoan" in message
    assert (
        f"monitoring revision 0042, which this version does not know (its latest is {head})"
        in message
    )
    assert await revisions(url, "alembic_version") == ["0042"]  # nothing changed
