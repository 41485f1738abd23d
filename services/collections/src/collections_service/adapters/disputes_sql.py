"""SQL of a dispute's file: evidence, outcome and replies (the dispute row is contacts_sql's)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.tables import (
    Base,
    DisputeEvidenceRow,
    DisputeOutcomeRow,
    DisputeReplyRow,
)

EVIDENCE = Base.metadata.tables[DisputeEvidenceRow.__tablename__]
OUTCOME = Base.metadata.tables[DisputeOutcomeRow.__tablename__]
REPLY = Base.metadata.tables[DisputeReplyRow.__tablename__]


async def add_evidence(session: AsyncSession, values: Mapping[str, object]) -> None:
    await session.execute(sa.insert(EVIDENCE).values(**values))


async def evidence(session: AsyncSession, dispute_id: uuid.UUID) -> list[RowMapping]:
    query = sa.select(EVIDENCE).where(EVIDENCE.c.dispute_id == dispute_id).order_by(EVIDENCE.c.seq)
    return list((await session.execute(query)).mappings())


async def record_outcome(session: AsyncSession, values: Mapping[str, object]) -> None:
    await session.execute(sa.insert(OUTCOME).values(**values))


async def outcome(session: AsyncSession, dispute_id: uuid.UUID) -> RowMapping | None:
    query = sa.select(OUTCOME).where(OUTCOME.c.dispute_id == dispute_id)
    return (await session.execute(query)).mappings().one_or_none()


async def add_reply(session: AsyncSession, values: Mapping[str, object]) -> None:
    await session.execute(sa.insert(REPLY).values(**values))


async def replies(session: AsyncSession, dispute_id: uuid.UUID) -> list[RowMapping]:
    query = sa.select(REPLY).where(REPLY.c.dispute_id == dispute_id).order_by(REPLY.c.seq)
    return list((await session.execute(query)).mappings())
