"""Use cases on collections' reference data about borrowers and loans."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import repository
from shared.events import LoanAccepted


async def record_loan(session: AsyncSession, loan: LoanAccepted) -> None:
    """Keep the borrower (latest contact data wins) and the loan (first one wins)."""
    b = loan.borrower
    await repository.upsert_borrower(
        session,
        {
            "borrower_id": b.borrower_id,
            "name": b.name,
            "phone": b.phone,
            "email": b.email,
            "time_zone": b.time_zone,
            "locale": b.locale,
        },
    )
    await repository.insert_loan(
        session,
        {
            "loan_id": loan.loan_id,
            "borrower_id": b.borrower_id,
            "product": loan.product,
            "jurisdiction": loan.jurisdiction,
            "principal": loan.principal,
            "currency": loan.currency,
            "disbursed_on": loan.disbursed_on,
        },
    )


async def loan_with_borrower(session: AsyncSession, loan_id: str) -> dict[str, Any] | None:
    """The loan with its borrower's contact data; None when unknown."""
    return await repository.loan_with_borrower(session, loan_id)
