"""Queries: one loan as shown at the current business date, and pages of loans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters import business_date, repository
from monitoring.adapters.instalments_sql import dues_from as dues_from  # instalment rows as dues
from monitoring.adapters.repository import LoanRecord as LoanRecord  # the routes' loan view


@dataclass(frozen=True)
class LoanView:
    """A loan with its schedule, and the business date its figures are as of."""

    loan: LoanRecord
    business_date: date | None


async def read_loan(session: AsyncSession, loan_id: str) -> LoanView | None:
    """The loan with its schedule and the current business date; None when unknown."""
    loan = await repository.get_loan(session, loan_id)
    if loan is None:
        return None
    return LoanView(loan, await business_date.current(session))


async def list_loans(
    session: AsyncSession, *, filters: dict[str, str], after: str | None, limit: int
) -> list[LoanRecord]:
    """Loans ordered by id (keyset pagination), without their schedules."""
    return await repository.list_loans(session, filters=filters, after=after, limit=limit)
