"""SQL of collections' reference data: borrowers and their loans."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.tables import Base, BorrowerRefRow, LoanRefRow

BORROWER = Base.metadata.tables[BorrowerRefRow.__tablename__]
LOAN = Base.metadata.tables[LoanRefRow.__tablename__]


async def upsert_borrower(session: AsyncSession, borrower: Mapping[str, Any]) -> None:
    """Insert the borrower, or overwrite its contact data with these."""
    await session.execute(
        insert(BORROWER)
        .values(dict(borrower))
        .on_conflict_do_update(index_elements=["borrower_id"], set_=dict(borrower))
    )


async def insert_loan(session: AsyncSession, loan: Mapping[str, Any]) -> None:
    """Insert the loan unless it is known already (the first one wins)."""
    await session.execute(
        insert(LOAN).values(dict(loan)).on_conflict_do_nothing(index_elements=["loan_id"])
    )


async def loan_with_borrower(session: AsyncSession, loan_id: str) -> dict[str, Any] | None:
    """The loan's row joined with its borrower's contact data; None when unknown."""
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


async def replace_contacts(
    session: AsyncSession, borrower_id: str, contacts: list[dict[str, Any]], updated_at: Any
) -> bool:
    """The borrower's contacts, whole, unless a later contact.updated set them; False when
    the borrower is unknown or the update is stale."""
    stmt = (
        sa.update(BORROWER)
        .where(
            BORROWER.c.borrower_id == borrower_id,
            sa.or_(
                BORROWER.c.contacts_updated_at.is_(None),
                BORROWER.c.contacts_updated_at < updated_at,
            ),
        )
        .values(contacts=contacts, contacts_updated_at=updated_at)
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))
