"""SQL of letters' documents."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.tables import Base, LetterDocumentRow

DOCUMENT = Base.metadata.tables[LetterDocumentRow.__tablename__]


async def keep(session: AsyncSession, message_id: uuid.UUID, pdf: bytes, at: datetime) -> None:
    """Store the letter; a resumed hand-over keeps the first document (it is what was posted)."""
    statement = insert(DOCUMENT).values(message_id=message_id, pdf=pdf, created_at=at)
    await session.execute(statement.on_conflict_do_nothing())


async def document(session: AsyncSession, message_id: uuid.UUID) -> bytes | None:
    query = sa.select(DOCUMENT.c.pdf).where(DOCUMENT.c.message_id == message_id)
    found: bytes | None = (await session.execute(query)).scalar_one_or_none()
    return found
