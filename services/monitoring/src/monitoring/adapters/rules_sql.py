"""Persistence of early-warning rule versions (rules are defined in ``domain/rules.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters.tables import Base, RuleRow
from monitoring.domain.rules import RuleDefinition, RuleVersion, Severity, StoredRuleVersion
from shared.db import driver_connection

RULE = Base.metadata.tables[RuleRow.__tablename__]


async def seed_rules(session: AsyncSession, definitions: Iterable[RuleDefinition]) -> None:
    """Version 1 of every rule, with its defaults and enabled, unless it exists already."""
    rows = [
        {"rule": d.name, "version": 1, "params": d.defaults, "severity": d.severity}
        | {"enabled": True}
        for d in definitions
    ]
    await session.execute(
        insert(RULE).values(rows).on_conflict_do_nothing(index_elements=["rule", "version"])
    )


async def versions(session: AsyncSession, rule: str | None = None) -> list[StoredRuleVersion]:
    """Stored versions (with ``created_at``), by rule and version."""
    query = sa.select(RULE).order_by(RULE.c.rule, RULE.c.version)
    if rule is not None:
        query = query.where(RULE.c.rule == rule)
    return [
        StoredRuleVersion(**vars(_version(r)), created_at=r["created_at"])
        for r in (await session.execute(query)).mappings()
    ]


async def lock_versions(session: AsyncSession, rule: str) -> list[RuleVersion]:
    """A rule's versions, locked until the transaction ends (version changes serialise)."""
    query = sa.select(RULE).where(RULE.c.rule == rule).order_by(RULE.c.version).with_for_update()
    return [_version(r) for r in (await session.execute(query)).mappings()]


async def get_version(session: AsyncSession, rule: str, version: int) -> RuleVersion | None:
    query = sa.select(RULE).where(RULE.c.rule == rule, RULE.c.version == version)
    row = (await session.execute(query)).mappings().one_or_none()
    return None if row is None else _version(row)


async def insert_version(session: AsyncSession, version: RuleVersion) -> None:
    await session.execute(
        sa.insert(RULE).values(
            rule=version.rule,
            version=version.version,
            params=version.params,
            severity=version.severity,
            enabled=version.enabled,
        )
    )


async def enable_only(session: AsyncSession, rule: str, version: int | None) -> None:
    """Enable ``version`` of ``rule`` and disable every other one (None disables them all)."""
    enabled = sa.false() if version is None else RULE.c.version == version
    await session.execute(sa.update(RULE).where(RULE.c.rule == rule).values(enabled=enabled))


async def enabled_versions(session: AsyncSession, rules: Iterable[str]) -> list[RuleVersion]:
    # Plain SQL: every payment and bureau event asks (shared.db.driver_connection says why).
    conn = await driver_connection(session)
    query = """
        SELECT rule, version, params, severity, enabled FROM rule
        WHERE enabled AND rule = ANY($1::text[]) ORDER BY rule, version
    """
    return [_version(r) for r in await conn.fetch(query, list(rules))]


def _version(row: Any) -> RuleVersion:  # a RowMapping or an asyncpg Record
    return RuleVersion(
        rule=row["rule"],
        version=row["version"],
        params=dict(row["params"]),
        severity=cast(Severity, row["severity"]),
        enabled=row["enabled"],
    )
