"""SQL of applied receipts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.tables import Base, ReceiptRow

RECEIPT = Base.metadata.tables[ReceiptRow.__tablename__]


async def record(
    session: AsyncSession,
    *,
    message_id: uuid.UUID,
    status: str,
    reason: str | None,
    at: datetime,
    received_at: datetime,
) -> bool:
    """Record a receipt as applied; False when this message's receipt of this status was."""
    statement = (
        insert(RECEIPT)
        .values(message_id=message_id, status=status, reason=reason, at=at, received_at=received_at)
        .on_conflict_do_nothing()
        .returning(RECEIPT.c.message_id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None
