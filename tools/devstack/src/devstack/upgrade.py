"""Upgrades of a state folder: every database brought to this version's migrations, or refused.

Run before any app starts, so a newer PostLoan on an older folder says which revisions it
applied, and an older PostLoan on a folder a newer one has migrated stops with a message
instead of running code against tables it does not know (its services would fail one by one).
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from devstack.config import Component
from shared.db import SHARED_MIGRATIONS, alembic_config, asyncpg_dsn, upgrade


class NewerStateFolder(RuntimeError):
    """A database is at a revision this version's migrations do not contain."""


@dataclass(frozen=True)
class Migrations:
    """One migration folder and the table where a database records its revision."""

    label: str
    folder: Path
    version_table: str

    def script(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(alembic_config(self.folder, "", self.version_table))


@dataclass(frozen=True)
class Applied:
    """What :func:`upgrade_databases` did to one database's migration folder."""

    component: str
    migrations: str
    before: tuple[str, ...]
    after: tuple[str, ...]

    def describe(self) -> str:
        was = ", ".join(self.before) or "empty"
        return f"{self.migrations} migrations {was} → {', '.join(self.after)} (alembic upgrade)"


def migrations_of(component: Component) -> list[Migrations]:
    """Shared's messaging tables, then the component's own (when its package has any)."""
    found = [Migrations("shared", SHARED_MIGRATIONS, "shared_alembic_version")]
    spec = importlib.util.find_spec(component.app.split(".")[0])
    if spec is not None and spec.origin is not None:
        folder = Path(spec.origin).parent / "migrations"
        if (folder / "versions").is_dir():
            found.append(Migrations(component.name, folder, "alembic_version"))
    return found


async def current_revisions(url: str, version_table: str) -> tuple[str, ...]:
    """The revisions a database records (none when it was never migrated)."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", version_table)
        if not exists:
            return ()
        rows = await conn.fetch(f'SELECT version_num FROM "{version_table}" ORDER BY 1')
        return tuple(str(r[0]) for r in rows)
    finally:
        await conn.close()


async def upgrade_databases(
    components: Sequence[Component], urls: Mapping[str, str], *, state_dir: Path
) -> list[Applied]:
    """Check every database first (refusing a newer one), then upgrade those behind."""
    pending: list[tuple[Component, Migrations, tuple[str, ...], tuple[str, ...]]] = []
    for component in components:
        for migrations in migrations_of(component):
            url = urls[component.name]
            before = await current_revisions(url, migrations.version_table)
            heads = tuple(sorted(migrations.script().get_heads()))
            _refuse_unknown(component, migrations, before, heads, state_dir)
            if before and before != heads:
                pending.append((component, migrations, before, heads))
    applied = []
    for component, migrations, before, heads in pending:
        url = urls[component.name]
        await asyncio.to_thread(
            upgrade, migrations.folder, url, version_table=migrations.version_table
        )
        after = await current_revisions(url, migrations.version_table)
        applied.append(Applied(component.name, migrations.label, before, after or heads))
    return applied


def _refuse_unknown(
    component: Component,
    migrations: Migrations,
    before: tuple[str, ...],
    heads: tuple[str, ...],
    state_dir: Path,
) -> None:
    script = migrations.script()
    for revision in before:
        try:
            known = script.get_revision(revision) is not None
        except CommandError:
            known = False
        if not known:
            raise NewerStateFolder(
                f"the state folder {state_dir} was written by a newer PostLoan: the database "
                f"of {component.name} is at {migrations.label} revision {revision}, which this "
                f"version does not know (its latest is {', '.join(heads)}). Nothing was "
                "started or changed; run the newer version, or restore a backup taken with "
                "this one into another state folder"
            )
