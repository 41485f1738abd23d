"""SQL of loan products: versions of their terms, and whether loans use them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters.tables import Base, LoanRow, ProductRow
from shared.db import driver_connection

LOAN = Base.metadata.tables[LoanRow.__tablename__]
PRODUCT = Base.metadata.tables[ProductRow.__tablename__]


async def product_waterfall(session: AsyncSession, product_id: str) -> list[str] | None:
    conn = await driver_connection(session)
    query = "SELECT waterfall FROM product WHERE product_id = $1"
    waterfall: list[str] | None = await conn.fetchval(query, product_id)
    return waterfall


async def get_product(
    session: AsyncSession, product_id: str, *, for_update: bool = False
) -> dict[str, Any] | None:
    query = sa.select(PRODUCT).where(PRODUCT.c.product_id == product_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().one_or_none()
    return None if row is None else dict(row)


async def insert_product(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Store a new product at version 1; False when its id is taken."""
    inserted = await session.execute(
        insert(PRODUCT)
        .values(dict(row) | {"version": 1})
        .on_conflict_do_nothing(index_elements=["product_id"])
        .returning(PRODUCT.c.product_id)
    )
    return inserted.scalar_one_or_none() is not None


async def update_product(session: AsyncSession, product_id: str, row: Mapping[str, Any]) -> None:
    """Replace a product's terms as its next version."""
    await session.execute(
        sa.update(PRODUCT)
        .where(PRODUCT.c.product_id == product_id)
        .values(dict(row) | {"version": PRODUCT.c.version + 1, "updated_at": sa.func.now()})
    )


async def list_products(
    session: AsyncSession, *, after: str | None, limit: int
) -> list[dict[str, Any]]:
    query = sa.select(PRODUCT).order_by(PRODUCT.c.product_id).limit(limit)
    if after is not None:
        query = query.where(PRODUCT.c.product_id > after)
    return [dict(r) for r in (await session.execute(query)).mappings()]


async def product_has_loans(session: AsyncSession, product_id: str) -> bool:
    query = sa.select(sa.literal(True)).where(LOAN.c.product == product_id).limit(1)
    return (await session.execute(query)).scalar_one_or_none() is not None


async def market_of(session: AsyncSession, product_id: str) -> tuple[str, str] | None:
    """A product's jurisdiction and currency, None for an unknown product."""
    query = sa.select(PRODUCT.c.jurisdiction, PRODUCT.c.currency).where(
        PRODUCT.c.product_id == product_id
    )
    row = (await session.execute(query)).one_or_none()
    return None if row is None else (str(row.jurisdiction), str(row.currency))
