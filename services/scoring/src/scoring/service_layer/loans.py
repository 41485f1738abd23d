"""Use cases on scoring's copy of loan terms."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters.tables import Base, LoanTermsRow
from shared.events import LoanAccepted

TERMS = Base.metadata.tables[LoanTermsRow.__tablename__]


async def record_loan_terms(session: AsyncSession, loan: LoanAccepted) -> None:
    """Keep the terms of a newly registered loan (a repeat changes nothing)."""
    await session.execute(
        insert(TERMS)
        .values(
            loan_id=loan.loan_id,
            borrower_id=loan.borrower.borrower_id,
            product=loan.product,
            principal=loan.principal,
            currency=loan.currency,
            annual_rate=loan.annual_rate,
            term_months=loan.term_months,
            repayment_method=loan.repayment_method.value,
            disbursed_on=loan.disbursed_on,
            first_due_on=loan.first_due_on,
        )
        .on_conflict_do_nothing(index_elements=["loan_id"])
    )


async def loan_terms(session: AsyncSession, loan_id: str) -> dict[str, Any] | None:
    row = await session.execute(sa.select(TERMS).where(TERMS.c.loan_id == loan_id))
    found = row.mappings().one_or_none()
    return dict(found) if found else None
