"""What each case recovered: the payments booked on its loan while it was open."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.cases_sql import CASE
from collections_service.adapters.tables import Base, CaseRecoveryRow

RECOVERY = Base.metadata.tables[CaseRecoveryRow.__tablename__]


async def record(
    session: AsyncSession, payment_id: str, loan_id: str, amount: Decimal, booked_on: date
) -> None:
    """Count the payment to the loan's open case, if any (a payment counts once)."""
    open_case = sa.select(
        sa.literal(payment_id), CASE.c.case_id, sa.literal(amount, sa.Numeric(18, 2)),
        sa.literal(booked_on, sa.Date),
    ).where(CASE.c.loan_id == loan_id, CASE.c.status == "open")  # fmt: skip
    query = insert(RECOVERY).from_select(
        ["payment_id", "case_id", "amount", "booked_on"], open_case
    )
    await session.execute(query.on_conflict_do_nothing())
