"""Use cases on notify's recipients."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import repository
from shared.events import LoanAccepted


async def record_recipient(session: AsyncSession, loan: LoanAccepted) -> None:
    """Keep the borrower's contact channels, locale and time zone, and link the loan."""
    b = loan.borrower
    contact = {
        "name": b.name,
        "phone": b.phone,
        "email": b.email,
        "locale": b.locale,
        "time_zone": b.time_zone,
    }
    await repository.upsert_recipient(session, b.borrower_id, contact)
    await repository.link_loan(session, loan.loan_id, b.borrower_id)


async def recipient_of_loan(session: AsyncSession, loan_id: str) -> dict[str, Any] | None:
    """The recipient of the loan's borrower; None when the loan is unknown."""
    return await repository.recipient_of_loan(session, loan_id)


async def recipient(session: AsyncSession, borrower_id: str) -> dict[str, Any] | None:
    """The borrower as a recipient; None when unknown."""
    return await repository.recipient(session, borrower_id)
