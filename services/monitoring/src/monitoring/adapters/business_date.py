"""The business date row: read it, start it, move it on (only end-of-day does that)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters.tables import Base, BusinessDateRow
from shared.db import driver_connection

BUSINESS_DATE = Base.metadata.tables[BusinessDateRow.__tablename__]


async def current(session: AsyncSession, *, for_update: bool = False) -> date | None:
    """The business date, or None before the first loan arrives."""
    # Plain SQL: every request and event reads it (shared.db.driver_connection says why).
    conn = await driver_connection(session)
    query = "SELECT business_date FROM business_date WHERE id = 1"
    found: date | None = await conn.fetchval(query + (" FOR UPDATE" if for_update else ""))
    return found


async def start_at(session: AsyncSession, candidate: date) -> date:
    """Start the business date at ``candidate`` if it has none yet; return the current one.

    The first loan registered on an empty platform sets it to its disbursement date, so that a
    portfolio can be replayed from its first day.
    """
    found = await current(session)
    if found is not None:  # the usual case: one read, no write
        return found
    await session.execute(
        sa.update(BUSINESS_DATE)
        .where(BUSINESS_DATE.c.id == 1, BUSINESS_DATE.c.business_date.is_(None))
        .values(business_date=candidate)
    )
    found = await current(session)
    assert found is not None
    return found


async def move_to(session: AsyncSession, *, expected: date, new: date) -> bool:
    """Compare-and-set: advance from ``expected`` to ``new``; False if someone else moved it."""
    result = await session.execute(
        sa.update(BUSINESS_DATE)
        .where(BUSINESS_DATE.c.id == 1, BUSINESS_DATE.c.business_date == expected)
        .values(business_date=new)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
