"""SQL of collections' versioned documents: strategies (activated per product) and packs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.tables import (
    Base,
    PackVersionRow,
    ProductStrategyRow,
    StrategyVersionRow,
)

STRATEGY = Base.metadata.tables[StrategyVersionRow.__tablename__]
ACTIVE = Base.metadata.tables[ProductStrategyRow.__tablename__]
PACK = Base.metadata.tables[PackVersionRow.__tablename__]

JsonObject = dict[str, object]  # a stored document: validated when it was uploaded


@dataclass(frozen=True, slots=True)
class StoredVersion:
    key: str  # the strategy id or the pack id
    version: int
    document: JsonObject
    created_at: datetime
    active: bool


async def add_strategy_version(
    session: AsyncSession, strategy_id: str, document: JsonObject
) -> int:
    """Store the next version (the lock makes concurrent uploads take turns)."""
    await session.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"strategy:{strategy_id}"}
    )
    version = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(STRATEGY.c.version), 0) + 1).where(
            STRATEGY.c.strategy_id == strategy_id
        )
    )
    await session.execute(
        sa.insert(STRATEGY).values(strategy_id=strategy_id, version=version, document=document)
    )
    return int(version or 1)


def _strategy_active() -> sa.ColumnElement[bool]:
    return sa.exists().where(
        ACTIVE.c.strategy_id == STRATEGY.c.strategy_id, ACTIVE.c.version == STRATEGY.c.version
    )


async def strategy_versions(
    session: AsyncSession, strategy_id: str | None = None
) -> list[StoredVersion]:
    query = sa.select(STRATEGY, _strategy_active().label("active")).order_by(
        STRATEGY.c.strategy_id, STRATEGY.c.version
    )
    if strategy_id is not None:
        query = query.where(STRATEGY.c.strategy_id == strategy_id)
    rows = (await session.execute(query)).mappings()
    return [
        StoredVersion(r["strategy_id"], r["version"], r["document"], r["created_at"], r["active"])
        for r in rows
    ]


async def activate_strategy(
    session: AsyncSession, strategy_id: str, version: int, products: list[str]
) -> None:
    """These products follow this version from now on (taken from any other strategy)."""
    if products:
        stmt = insert(ACTIVE).values(
            [{"product": p, "strategy_id": strategy_id, "version": version} for p in products]
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["product"],
                set_={
                    "strategy_id": stmt.excluded.strategy_id,
                    "version": stmt.excluded.version,
                    "activated_at": sa.func.now(),
                },
            )
        )


async def active_strategy_for(session: AsyncSession, product: str) -> StoredVersion | None:
    query = (
        sa.select(STRATEGY)
        .join(
            ACTIVE,
            sa.and_(
                ACTIVE.c.strategy_id == STRATEGY.c.strategy_id,
                ACTIVE.c.version == STRATEGY.c.version,
            ),
        )
        .where(ACTIVE.c.product == product)
    )
    row = (await session.execute(query)).mappings().one_or_none()
    return (
        StoredVersion(row["strategy_id"], row["version"], row["document"], row["created_at"], True)
        if row
        else None
    )


async def strategy_version(
    session: AsyncSession, strategy_id: str, version: int
) -> JsonObject | None:
    query = sa.select(STRATEGY.c.document).where(
        STRATEGY.c.strategy_id == strategy_id, STRATEGY.c.version == version
    )
    return await session.scalar(query)


async def add_pack_version(session: AsyncSession, pack: str, document: JsonObject) -> int:
    await session.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"pack:{pack}"}
    )
    version = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(PACK.c.version), 0) + 1).where(PACK.c.pack == pack)
    )
    await session.execute(
        sa.insert(PACK).values(pack=pack, version=version, document=document, active=False)
    )
    return int(version or 1)


async def pack_versions(session: AsyncSession, pack: str | None = None) -> list[StoredVersion]:
    query = sa.select(PACK).order_by(PACK.c.pack, PACK.c.version)
    if pack is not None:
        query = query.where(PACK.c.pack == pack)
    rows = (await session.execute(query)).mappings()
    return [
        StoredVersion(r["pack"], r["version"], r["document"], r["created_at"], r["active"])
        for r in rows
    ]


async def activate_pack(session: AsyncSession, pack: str, version: int) -> None:
    await session.execute(
        sa.update(PACK).where(PACK.c.pack == pack).values(active=PACK.c.version == version)
    )


async def active_pack(session: AsyncSession, pack: str) -> StoredVersion | None:
    query = sa.select(PACK).where(PACK.c.pack == pack, PACK.c.active)
    row = (await session.execute(query)).mappings().one_or_none()
    return (
        StoredVersion(row["pack"], row["version"], row["document"], row["created_at"], True)
        if row
        else None
    )


async def active_strategy_versions(session: AsyncSession) -> list[tuple[str, int]]:
    """Each strategy version some product follows now."""
    query = sa.select(ACTIVE.c.strategy_id, ACTIVE.c.version).distinct()
    return [(str(s), int(v)) for s, v in (await session.execute(query)).all()]
