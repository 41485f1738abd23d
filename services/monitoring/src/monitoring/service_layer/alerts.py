"""Use cases of the alerts early-warning rules fire: list, read, acknowledge, resolve.

Alerts are raised by ``rule_evaluation.py``; here people take them in hand and close them
(open → acknowledged → resolved, ``domain/alerts.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters import alerts_sql
from monitoring.domain.alerts import ALLOWED_FROM, Alert, Move
from shared.problems import Conflict, NotFound


async def list_alerts(
    session: AsyncSession,
    *,
    filters: Mapping[str, str],
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Alert]:
    """Alerts newest first, filtered, after the keyset cursor ``after``, at most ``limit``."""
    return await alerts_sql.list_alerts(session, filters=filters, after=after, limit=limit)


async def get_alert(session: AsyncSession, alert_id: str) -> Alert:
    alert = await alerts_sql.get_alert(session, alert_id)
    if alert is None:
        raise NotFound("alert", alert_id)
    return alert


async def acknowledge_alert(session: AsyncSession, alert_id: str, actor: str) -> Alert:
    """Take an open alert in hand (409 once acknowledged or resolved)."""
    return await _move(session, alert_id, "acknowledged", actor)


async def resolve_alert(session: AsyncSession, alert_id: str, actor: str) -> Alert:
    """Close an open or acknowledged alert (409 once resolved); the rule may fire again."""
    return await _move(session, alert_id, "resolved", actor)


async def _move(session: AsyncSession, alert_id: str, move: Move, actor: str) -> Alert:
    moved = await alerts_sql.move_alert(session, alert_id, move, actor)
    if moved is not None:
        return moved
    current = await get_alert(session, alert_id)
    raise Conflict(
        f"alert {alert_id} is {current.status}, not {' or '.join(ALLOWED_FROM[move])}",
        alert_status=current.status,
    )
