"""SQL of the quadrant's inputs: the bureau's last report and behaviour in the contact ledger."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.tables import Base, BorrowerSignalRow, ContactAttemptRow
from collections_service.domain.quadrant import Ability, Willingness

SIGNAL = Base.metadata.tables[BorrowerSignalRow.__tablename__]
ATTEMPT = Base.metadata.tables[ContactAttemptRow.__tablename__]


async def save_report(
    session: AsyncSession,
    borrower_id: str,
    *,
    score: int,
    total_debt: Decimal,
    delinquent: int,
    reported_at: datetime,
) -> bool:
    """Keep the newer report (the previous score becomes ``before``); False for an older one."""
    values = {
        "bureau_score": score,
        "total_debt": total_debt,
        "delinquent_elsewhere": delinquent,
        "reported_at": reported_at,
    }
    stmt = insert(SIGNAL).values(borrower_id=borrower_id, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["borrower_id"],
        set_={
            **{k: stmt.excluded[k] for k in values},
            "bureau_score_before": SIGNAL.c.bureau_score,
        },
        where=SIGNAL.c.reported_at < stmt.excluded.reported_at,
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def ability(
    session: AsyncSession, borrower_id: str, principal: Decimal, tier: str | None
) -> Ability:
    row = (
        await session.execute(sa.select(SIGNAL).where(SIGNAL.c.borrower_id == borrower_id))
    ).mappings()
    found = row.one_or_none()
    if found is None:
        return Ability(principal=principal, tier=tier)
    return Ability(
        bureau_score=found["bureau_score"],
        bureau_score_before=found["bureau_score_before"],
        total_debt=found["total_debt"],
        principal=principal,
        delinquent_elsewhere=found["delinquent_elsewhere"],
        tier=tier,
    )


async def willingness(session: AsyncSession, borrower_id: str) -> Willingness:
    """Contacts made and answered, from the ledger (promises come with the collectors' work)."""
    answered = sa.func.count().filter(ATTEMPT.c.status == "connected")
    made = sa.func.count().filter(ATTEMPT.c.status.in_(("connected", "unanswered")))
    query = sa.select(made, answered).where(ATTEMPT.c.borrower_id == borrower_id)
    contacts_made, contacts_answered = (await session.execute(query)).one()
    return Willingness(contacts_made=int(contacts_made), contacts_answered=int(contacts_answered))
