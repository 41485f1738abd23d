"""Reads of the decisions log for the API (decisions are written by :mod:`.contacts`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import contacts_sql
from collections_service.adapters.contacts_sql import DecisionFilter

__all__ = ["DecisionFilter", "list_decisions"]


async def list_decisions(
    session: AsyncSession, where: DecisionFilter, *, after: tuple[datetime, str] | None, limit: int
) -> list[RowMapping]:
    return await contacts_sql.list_decisions(session, where, after=after, limit=limit)
