"""Reads of the decisions log for the API (decisions are written by :mod:`.contacts`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import contacts_sql
from collections_service.adapters.contacts_sql import DecisionFilter
from shared.principal import Principal

__all__ = ["DecisionFilter", "list_decisions"]


async def list_decisions(
    session: AsyncSession,
    where: DecisionFilter,
    principal: Principal,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[RowMapping]:
    """The decisions about cases ``principal`` may see (filtered in the query)."""
    return await contacts_sql.list_decisions(
        session, where, visible=principal, after=after, limit=limit
    )
