"""The business date collections has reached: the latest end of day monitoring began, or a
loan's own latest fact when that is later (facts and EOD arrive on separate consumers)."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.cases_sql import CASE, STATE
from collections_service.adapters.tables import Base, BusinessDayRow

DAY = Base.metadata.tables[BusinessDayRow.__tablename__]


async def advance(session: AsyncSession, business_date: date) -> None:
    """An end of day began ``business_date`` (an older one, redelivered, changes nothing)."""
    query = insert(DAY).values(singleton=True, business_date=business_date)
    await session.execute(
        query.on_conflict_do_update(
            index_elements=[DAY.c.singleton],
            set_={"business_date": sa.func.greatest(DAY.c.business_date, business_date)},
        )
    )


def _latest() -> sa.ScalarSelect[date]:
    return sa.select(DAY.c.business_date).where(DAY.c.singleton).scalar_subquery()


async def today_of_case(session: AsyncSession, case_id: uuid.UUID) -> date:
    """The business date for what is asked about the case now."""
    own = sa.func.coalesce(STATE.c.business_date, CASE.c.opened_on)
    query = (
        sa.select(sa.func.greatest(own, sa.func.coalesce(_latest(), own)))
        .select_from(CASE.outerjoin(STATE, STATE.c.loan_id == CASE.c.loan_id))
        .where(CASE.c.case_id == case_id)
    )
    found = await session.scalar(query)
    assert isinstance(found, date)  # a case has a date: at least its opening
    return found


async def today_of_loan(session: AsyncSession, loan_id: str) -> date | None:
    """The business date for what is asked about the loan now (None before any fact)."""
    own = sa.select(STATE.c.business_date).where(STATE.c.loan_id == loan_id).scalar_subquery()
    found: date | None = await session.scalar(sa.select(sa.func.greatest(own, _latest())))
    return found
