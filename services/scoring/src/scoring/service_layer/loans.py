"""Use cases on scoring's copy of loan terms."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters.tables import Base, LoanTermsRow

TERMS = Base.metadata.tables[LoanTermsRow.__tablename__]


async def loan_terms(session: AsyncSession, loan_id: str) -> dict[str, Any] | None:
    row = await session.execute(sa.select(TERMS).where(TERMS.c.loan_id == loan_id))
    found = row.mappings().one_or_none()
    return dict(found) if found else None
