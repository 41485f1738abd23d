"""Use cases on notify's recipients."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.tables import Base, LoanRecipientRow, RecipientRow
from shared.events import LoanAccepted

RECIPIENT = Base.metadata.tables[RecipientRow.__tablename__]
LOAN_RECIPIENT = Base.metadata.tables[LoanRecipientRow.__tablename__]


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
    await session.execute(
        insert(RECIPIENT)
        .values(borrower_id=b.borrower_id, **contact)
        .on_conflict_do_update(index_elements=["borrower_id"], set_=contact)
    )
    await session.execute(
        insert(LOAN_RECIPIENT)
        .values(loan_id=loan.loan_id, borrower_id=b.borrower_id)
        .on_conflict_do_nothing(index_elements=["loan_id"])
    )


async def recipient_of_loan(session: AsyncSession, loan_id: str) -> dict[str, Any] | None:
    query = (
        sa.select(RECIPIENT, LOAN_RECIPIENT.c.loan_id)
        .join(LOAN_RECIPIENT)
        .where(LOAN_RECIPIENT.c.loan_id == loan_id)
    )
    found = (await session.execute(query)).mappings().one_or_none()
    return dict(found) if found else None


async def recipient(session: AsyncSession, borrower_id: str) -> dict[str, Any] | None:
    query = sa.select(RECIPIENT).where(RECIPIENT.c.borrower_id == borrower_id)
    found = (await session.execute(query)).mappings().one_or_none()
    return dict(found) if found else None
