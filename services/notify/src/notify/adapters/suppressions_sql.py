"""SQL of suppressions: addresses no message on their channel may go to."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.tables import Base, SuppressionRow

SUPPRESSION = Base.metadata.tables[SuppressionRow.__tablename__]


async def reason_for(session: AsyncSession, channel: str, address: str) -> str | None:
    """The reason the (normalised) address is suppressed on the channel; None when it is not."""
    query = sa.select(SUPPRESSION.c.reason).where(
        SUPPRESSION.c.channel == channel, SUPPRESSION.c.address == address
    )
    found: str | None = (await session.execute(query)).scalar_one_or_none()
    return found


async def add(session: AsyncSession, values: Mapping[str, Any]) -> dict[str, Any] | None:
    """Store a suppression; None when the address is suppressed on that channel already."""
    statement = (
        insert(SUPPRESSION)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["channel", "address"])
        .returning(*SUPPRESSION.c)
    )
    row = (await session.execute(statement)).mappings().one_or_none()
    return None if row is None else dict(row)


async def by_address(session: AsyncSession, channel: str, address: str) -> dict[str, Any] | None:
    query = sa.select(SUPPRESSION).where(
        SUPPRESSION.c.channel == channel, SUPPRESSION.c.address == address
    )
    row = (await session.execute(query)).mappings().one_or_none()
    return None if row is None else dict(row)


async def listing(
    session: AsyncSession,
    *,
    filters: Mapping[str, str],
    after: tuple[Any, uuid.UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Suppressions newest first (keyset on ``created_at``, ``suppression_id``)."""
    query = (
        sa.select(SUPPRESSION)
        .order_by(SUPPRESSION.c.created_at.desc(), SUPPRESSION.c.suppression_id.desc())
        .limit(limit)
    )
    for column, value in filters.items():
        query = query.where(SUPPRESSION.c[column] == value)
    if after is not None:
        key = sa.tuple_(SUPPRESSION.c.created_at, SUPPRESSION.c.suppression_id)
        query = query.where(key < sa.tuple_(sa.literal(after[0]), sa.literal(after[1], sa.Uuid)))
    return [dict(r) for r in (await session.execute(query)).mappings()]


async def remove(session: AsyncSession, suppression_id: uuid.UUID) -> bool:
    statement = (
        sa.delete(SUPPRESSION)
        .where(SUPPRESSION.c.suppression_id == suppression_id)
        .returning(SUPPRESSION.c.suppression_id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None
