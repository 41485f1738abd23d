"""Persistence of the alerts early-warning rules fire, and of their workflow."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters.tables import AlertRow, Base
from monitoring.domain.alerts import ALLOWED_FROM, Alert, Move
from monitoring.domain.rules import FiredAlert, RuleVersion

ALERT = Base.metadata.tables[AlertRow.__tablename__]


#: Fired alerts arrive as parallel arrays, so that one statement stores any number of them (a
#: multi-row VALUES costs SQLAlchemy a compilation per row). The index predicate is a literal:
#: with a bound parameter PostgreSQL cannot match it once it plans the statement generically.
_INSERT_ALERTS = """
INSERT INTO alert (alert_id, loan_id, rule, rule_version, severity, status, evidence, raised_on)
SELECT gen_random_uuid()::text, h.loan_id, :rule, :version, :severity, 'open',
       CAST(h.evidence AS json), h.raised_on
FROM unnest(CAST(:loan_ids AS text[]), CAST(:evidence AS text[]), CAST(:raised_on AS date[]))
     AS h(loan_id, evidence, raised_on)
ON CONFLICT (rule, loan_id) WHERE status <> 'resolved' DO NOTHING
RETURNING *
"""


async def insert_alerts(
    session: AsyncSession, version: RuleVersion, fired: Sequence[FiredAlert]
) -> list[Alert]:
    """Store fired alerts as open; a loan that already has an open alert of the rule is
    skipped. Returns the alerts inserted."""
    params = {
        "rule": version.rule,
        "version": version.version,
        "severity": version.severity,
        "loan_ids": [a.loan_id for a in fired],
        "evidence": [json.dumps(a.evidence) for a in fired],
        "raised_on": [a.raised_on for a in fired],
    }
    rows = await session.execute(sa.text(_INSERT_ALERTS), params)
    return [_alert(r) for r in rows.mappings()]


async def get_alert(session: AsyncSession, alert_id: str) -> Alert | None:
    row = await session.execute(sa.select(ALERT).where(ALERT.c.alert_id == alert_id))
    found = row.mappings().one_or_none()
    return None if found is None else _alert(found)


async def move_alert(session: AsyncSession, alert_id: str, move: Move, actor: str) -> Alert | None:
    """Move an alert whose status allows ``move``, stamped with ``actor`` and the database's
    time; None when there is none."""
    statement = (
        sa.update(ALERT)
        .where(ALERT.c.alert_id == alert_id, ALERT.c.status.in_(ALLOWED_FROM[move]))
        .values({"status": move, f"{move}_by": actor, f"{move}_at": sa.func.now()})
        .returning(*ALERT.c)
    )
    row = (await session.execute(statement)).mappings().one_or_none()
    return None if row is None else _alert(row)


async def list_alerts(
    session: AsyncSession,
    *,
    filters: Mapping[str, str],
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Alert]:
    """Alerts newest first (keyset on ``raised_at``, ``alert_id``)."""
    query = (
        sa.select(ALERT).order_by(ALERT.c.raised_at.desc(), ALERT.c.alert_id.desc()).limit(limit)
    )
    for column, value in filters.items():
        query = query.where(ALERT.c[column] == value)
    if after is not None:
        query = query.where(sa.tuple_(ALERT.c.raised_at, ALERT.c.alert_id) < sa.tuple_(*after))
    return [_alert(r) for r in (await session.execute(query)).mappings()]


def _alert(row: sa.RowMapping) -> Alert:
    return Alert(**row)
