"""The pre-due query: loans of a strategy's products with an instalment due on a given date,
no open case and the reminder's conditions met, in one statement (an index on due dates)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.cases_sql import BORROWER, CASE, LOAN, STATE
from collections_service.adapters.segment_sql import SnapshotColumns, condition
from collections_service.domain.strategy import When


@dataclass(frozen=True, slots=True)
class DueLoan:
    loan_id: str
    borrower_id: str
    name: str
    phone: str
    email: str | None
    time_zone: str
    pack: str
    amount_due: Decimal


async def loans_due(
    session: AsyncSession, products: frozenset[str], due_on: date, when: When
) -> list[DueLoan]:
    columns = SnapshotColumns(
        key=LOAN.c.loan_id,
        bucket=sa.func.coalesce(STATE.c.bucket, "C"),
        dpd=sa.func.coalesce(STATE.c.dpd, 0),
        outstanding=sa.func.coalesce(STATE.c.outstanding, LOAN.c.principal),
        tier=STATE.c.tier,
        quadrant=sa.cast(sa.null(), sa.Text),  # not computed before a case opens
    )
    open_case = sa.exists().where(CASE.c.loan_id == LOAN.c.loan_id, CASE.c.status == "open")
    day = sa.cast(sa.literal(due_on), sa.Date)
    amount = LOAN.c.due_amounts[sa.func.array_position(LOAN.c.due_dates, day)]
    query = (
        sa.select(
            LOAN.c.loan_id,
            LOAN.c.borrower_id,
            BORROWER.c.name,
            BORROWER.c.phone,
            BORROWER.c.email,
            BORROWER.c.time_zone,
            LOAN.c.jurisdiction,
            amount,
        )
        .join(BORROWER, BORROWER.c.borrower_id == LOAN.c.borrower_id)
        .outerjoin(STATE, STATE.c.loan_id == LOAN.c.loan_id)
        .where(
            LOAN.c.product.in_(sorted(products)),
            LOAN.c.due_dates.contains([due_on]),
            ~open_case,
            condition(when, columns),
        )
        .order_by(LOAN.c.loan_id)
    )
    return [DueLoan(*row) for row in (await session.execute(query)).all()]
