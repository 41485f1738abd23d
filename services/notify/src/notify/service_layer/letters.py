"""Use cases of letters: the PDF of a letter that was rendered."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import letters_sql, messages_sql
from shared.problems import NotFound


async def letter_document(session: AsyncSession, message_id: uuid.UUID) -> bytes:
    """The letter's PDF; 404 for an unknown message, and for one that is not a rendered
    letter (another channel, or a letter not yet handed over)."""
    if await messages_sql.message_by_id(session, message_id) is None:
        raise NotFound("message", str(message_id))
    pdf = await letters_sql.document(session, message_id)
    if pdf is None:
        raise NotFound("document", str(message_id))
    return pdf
