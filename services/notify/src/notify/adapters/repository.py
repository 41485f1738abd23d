"""SQL of notify's recipients and the loans that lead to them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.tables import Base, LoanRecipientRow, RecipientRow

RECIPIENT = Base.metadata.tables[RecipientRow.__tablename__]
LOAN_RECIPIENT = Base.metadata.tables[LoanRecipientRow.__tablename__]


async def upsert_recipient(
    session: AsyncSession, borrower_id: str, contact: Mapping[str, Any]
) -> None:
    """Insert the recipient, or overwrite its contact data with these."""
    await session.execute(
        insert(RECIPIENT)
        .values(borrower_id=borrower_id, **contact)
        .on_conflict_do_update(index_elements=["borrower_id"], set_=dict(contact))
    )


async def link_loan(session: AsyncSession, loan_id: str, borrower_id: str, pack: str) -> None:
    """Link the loan to its borrower and pack unless it is linked already (the first wins)."""
    await session.execute(
        insert(LOAN_RECIPIENT)
        .values(loan_id=loan_id, borrower_id=borrower_id, pack=pack)
        .on_conflict_do_nothing(index_elements=["loan_id"])
    )


async def recipient_of_loan(session: AsyncSession, loan_id: str) -> dict[str, Any] | None:
    """The recipient row of the loan's borrower, with the loan id and the loan's pack; None
    when the loan is unknown."""
    query = (
        sa.select(RECIPIENT, LOAN_RECIPIENT.c.loan_id, LOAN_RECIPIENT.c.pack)
        .join(LOAN_RECIPIENT)
        .where(LOAN_RECIPIENT.c.loan_id == loan_id)
    )
    found = (await session.execute(query)).mappings().one_or_none()
    return dict(found) if found else None


async def recipient(session: AsyncSession, borrower_id: str) -> dict[str, Any] | None:
    """The borrower's recipient row; None when unknown."""
    query = sa.select(RECIPIENT).where(RECIPIENT.c.borrower_id == borrower_id)
    found = (await session.execute(query)).mappings().one_or_none()
    return dict(found) if found else None


async def update_contact(
    session: AsyncSession, borrower_id: str, changes: Mapping[str, Any], updated_at: datetime
) -> bool:
    """Apply ``changes`` unless a later update was applied already; False when the borrower
    is unknown or the update is older than the last one applied."""
    newer = sa.or_(
        RECIPIENT.c.contact_updated_at.is_(None), RECIPIENT.c.contact_updated_at < updated_at
    )
    statement = (
        sa.update(RECIPIENT)
        .where(RECIPIENT.c.borrower_id == borrower_id, newer)
        .values(**changes, contact_updated_at=updated_at)
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))
