"""Routes of early-warning alerts: list, read, acknowledge, resolve."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from monitoring.domain.alerts import AlertStatus
from monitoring.domain.json_object import JsonObject
from monitoring.domain.rules import RULES, Severity
from monitoring.service_layer import alerts
from shared.app import SessionDep
from shared.pagination import decode_time_cursor, encode_time_cursor
from shared.params import Cursor, PageLimit
from shared.principal import PrincipalDep
from shared.problems import Problem
from shared.types import ExternalId

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


class AlertPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    alert_id: str
    loan_id: str
    rule: str
    rule_version: int
    severity: Severity
    status: AlertStatus
    evidence: JsonObject
    raised_on: date
    raised_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None


class AlertPage(BaseModel):
    items: list[AlertPublic]
    next_cursor: str | None


@router.get("", response_model=AlertPage)
async def list_alerts(
    session: SessionDep,
    loan_id: ExternalId | None = None,
    alert_status: Annotated[AlertStatus | None, Query(alias="status")] = None,
    rule: ExternalId | None = None,
    severity: Severity | None = None,
    cursor: Cursor | None = None,
    limit: PageLimit = 50,
) -> AlertPage:
    """Alerts, newest first, filtered, one page at a time (pass ``next_cursor`` back)."""
    if rule is not None and rule not in RULES:
        raise Problem(
            422,
            "Invalid request",
            f"rule: unknown rule {rule!r}",
            errors=[{"field": "rule", "message": f"one of {', '.join(RULES)}"}],
        )
    filters = {"loan_id": loan_id, "status": alert_status, "rule": rule, "severity": severity}
    rows = await alerts.list_alerts(
        session,
        filters={k: v for k, v in filters.items() if v is not None},
        after=decode_time_cursor(cursor),
        limit=limit + 1,
    )
    page = [AlertPublic.model_validate(r) for r in rows[:limit]]
    more = len(rows) > limit
    return AlertPage(items=page, next_cursor=_encode(page[-1]) if more else None)


@router.get("/{alert_id}", response_model=AlertPublic)
async def get_alert(alert_id: ExternalId, session: SessionDep) -> AlertPublic:
    """One alert with its evidence and workflow."""
    return AlertPublic.model_validate(await alerts.get_alert(session, alert_id))


@router.post("/{alert_id}/acknowledge", response_model=AlertPublic)
async def acknowledge_alert(
    alert_id: ExternalId, session: SessionDep, principal: PrincipalDep
) -> AlertPublic:
    """Acknowledge an open alert (409 once acknowledged or resolved)."""
    moved = await alerts.acknowledge_alert(session, alert_id, principal.subject)
    return AlertPublic.model_validate(moved)


@router.post("/{alert_id}/resolve", response_model=AlertPublic)
async def resolve_alert(
    alert_id: ExternalId, session: SessionDep, principal: PrincipalDep
) -> AlertPublic:
    """Resolve an open or acknowledged alert (409 once resolved)."""
    moved = await alerts.resolve_alert(session, alert_id, principal.subject)
    return AlertPublic.model_validate(moved)


def _encode(last: AlertPublic) -> str:
    return encode_time_cursor(last.raised_at, last.alert_id)
