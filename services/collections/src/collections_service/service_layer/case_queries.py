"""Reads of cases for the API (the writes are in :mod:`.cases`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import access_sql, cases_sql
from collections_service.adapters.cases_sql import CaseFilter, CaseRecord, TimelineEntry
from shared.principal import Principal

__all__ = ["CaseFilter", "CaseRecord", "case_with_timeline", "list_cases"]


async def list_cases(
    session: AsyncSession,
    where: CaseFilter,
    principal: Principal,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[tuple[CaseRecord, datetime]]:
    """Only the cases ``principal`` may see: filtered in the query itself."""
    visible = access_sql.case_visible(principal)
    return await cases_sql.list_cases(session, where, visible=visible, after=after, limit=limit)


async def case_with_timeline(
    session: AsyncSession, case_id: uuid.UUID
) -> tuple[CaseRecord, list[TimelineEntry]] | None:
    case = await cases_sql.get_case(session, case_id)
    if case is None:
        return None
    return case, await cases_sql.timeline(session, case_id)
