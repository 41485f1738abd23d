"""SQL of what notify mirrors from collections: contact preferences and disputes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import time

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.tables import Base, MirroredDisputeRow, MirroredPreferenceRow

PREFERENCE = Base.metadata.tables[MirroredPreferenceRow.__tablename__]
DISPUTE = Base.metadata.tables[MirroredDisputeRow.__tablename__]


@dataclass(frozen=True, slots=True)
class Protections:
    stopped_channels: frozenset[str]
    preferred: tuple[time, time] | None
    consent: bool
    open_disputes: frozenset[str]  # loan ids


async def save_preferences(
    session: AsyncSession,
    borrower_id: str,
    stopped: list[str],
    preferred: tuple[time, time] | None,
    consent: bool,
) -> None:
    values = {"stopped_channels": stopped, "preferred_from": preferred[0] if preferred else None,
              "preferred_to": preferred[1] if preferred else None, "consent": consent}  # fmt: skip
    stmt = insert(PREFERENCE).values(borrower_id=borrower_id, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["borrower_id"], set_=values))


async def save_dispute(
    session: AsyncSession, dispute_id: uuid.UUID, loan_id: str, borrower_id: str, status: str
) -> None:
    """Record the dispute's state; a resolution never reopens (events may come out of order)."""
    stmt = insert(DISPUTE).values(
        dispute_id=dispute_id, loan_id=loan_id, borrower_id=borrower_id, status=status
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["dispute_id"],
            set_={"status": stmt.excluded.status},
            where=DISPUTE.c.status == "open",
        )
    )


async def protections_of(session: AsyncSession, borrower_id: str) -> Protections:
    disputes = (
        sa.select(sa.func.array_agg(DISPUTE.c.loan_id))
        .where(DISPUTE.c.borrower_id == borrower_id, DISPUTE.c.status == "open")
        .scalar_subquery()
    )
    query = sa.select(
        disputes, PREFERENCE.c.stopped_channels, PREFERENCE.c.preferred_from,
        PREFERENCE.c.preferred_to, PREFERENCE.c.consent,
    ).select_from(
        sa.select(sa.literal(borrower_id).label("b")).subquery("me")
        .outerjoin(PREFERENCE, PREFERENCE.c.borrower_id == borrower_id)
    )  # fmt: skip
    open_loans, stopped, start, end, consent = (await session.execute(query)).one()
    preferred = (start, end) if start is not None and end is not None else None
    return Protections(
        frozenset(stopped or ()), preferred, bool(consent), frozenset(open_loans or ())
    )
