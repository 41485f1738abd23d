"""What the ledger says of notices: whether notify sent one, and when a debt's was first sent."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.contacts_sql import ATTEMPT, DISPUTE
from collections_service.domain.agencies import NOTICE_SENT


async def attempt_status(session: AsyncSession, request_id: uuid.UUID) -> str | None:
    """The ledger status of a request (pending until notify reports), None if not requested."""
    query = sa.select(ATTEMPT.c.status).where(ATTEMPT.c.request_id == request_id)
    status: str | None = await session.scalar(query)
    return status


async def first_sent_on(session: AsyncSession, loan_id: str, purpose: str) -> date | None:
    """The business date of the debt's first notice of ``purpose`` that notify sent."""
    query = sa.select(sa.func.min(ATTEMPT.c.business_date)).where(
        ATTEMPT.c.loan_id == loan_id,
        ATTEMPT.c.purpose == purpose,
        ATTEMPT.c.status.in_(NOTICE_SENT),
    )
    found: date | None = await session.scalar(query)
    return found


async def dispute_open(session: AsyncSession, loan_id: str) -> bool:
    query = sa.select(sa.literal(True)).where(
        DISPUTE.c.loan_id == loan_id, DISPUTE.c.status == "open"
    )
    return bool(await session.scalar(query.limit(1)))
