"""Use cases on collections' reference data about borrowers and loans."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.tables import Base, BorrowerRefRow, LoanRefRow
from shared.events import LoanAccepted

BORROWER = Base.metadata.tables[BorrowerRefRow.__tablename__]
LOAN = Base.metadata.tables[LoanRefRow.__tablename__]


async def record_loan(session: AsyncSession, loan: LoanAccepted) -> None:
    """Keep the borrower (latest contact data wins) and the loan (first one wins)."""
    b = loan.borrower
    borrower = {
        "borrower_id": b.borrower_id,
        "name": b.name,
        "phone": b.phone,
        "email": b.email,
        "time_zone": b.time_zone,
        "locale": b.locale,
    }
    await session.execute(
        insert(BORROWER)
        .values(borrower)
        .on_conflict_do_update(index_elements=["borrower_id"], set_=borrower)
    )
    await session.execute(
        insert(LOAN)
        .values(
            loan_id=loan.loan_id,
            borrower_id=b.borrower_id,
            product=loan.product,
            jurisdiction=loan.jurisdiction,
            principal=loan.principal,
            currency=loan.currency,
            disbursed_on=loan.disbursed_on,
        )
        .on_conflict_do_nothing(index_elements=["loan_id"])
    )


async def loan_with_borrower(session: AsyncSession, loan_id: str) -> dict[str, Any] | None:
    query = sa.select(
        LOAN,
        BORROWER.c.name,
        BORROWER.c.phone,
        BORROWER.c.email,
        BORROWER.c.time_zone,
        BORROWER.c.locale,
    ).join(BORROWER)
    row = (await session.execute(query.where(LOAN.c.loan_id == loan_id))).mappings()
    found = row.one_or_none()
    return dict(found) if found else None
