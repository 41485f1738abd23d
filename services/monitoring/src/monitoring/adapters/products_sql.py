"""SQL of loan products: versions of their terms, and whether loans use them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters.tables import Base, LoanRow, ProductRow
from monitoring.domain.products import ProductTerms, parse_waterfall

LOAN = Base.metadata.tables[LoanRow.__tablename__]
PRODUCT = Base.metadata.tables[ProductRow.__tablename__]


@dataclass(frozen=True)
class StoredProduct:
    """A product as stored: its terms, id, version and when it last changed."""

    product_id: str
    name: str
    currency: str
    penalty_multiplier: Decimal
    cost_cap_apr: Decimal
    grace_days: int
    waterfall: list[str]
    jurisdiction: str
    version: int
    updated_at: datetime

    def terms(self) -> ProductTerms:
        return ProductTerms(
            name=self.name,
            currency=self.currency,
            penalty_multiplier=self.penalty_multiplier,
            cost_cap_apr=self.cost_cap_apr,
            grace_days=self.grace_days,
            waterfall=parse_waterfall(self.waterfall),
            jurisdiction=self.jurisdiction,
        )


async def get_product(
    session: AsyncSession, product_id: str, *, for_update: bool = False
) -> StoredProduct | None:
    query = sa.select(PRODUCT).where(PRODUCT.c.product_id == product_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().one_or_none()
    return None if row is None else StoredProduct(**row)


async def insert_product(session: AsyncSession, product_id: str, terms: ProductTerms) -> bool:
    """Store a new product at version 1; False when its id is taken."""
    inserted = await session.execute(
        insert(PRODUCT)
        .values(terms.as_row() | {"product_id": product_id, "version": 1})
        .on_conflict_do_nothing(index_elements=["product_id"])
        .returning(PRODUCT.c.product_id)
    )
    return inserted.scalar_one_or_none() is not None


async def update_product(session: AsyncSession, product_id: str, terms: ProductTerms) -> None:
    """Replace a product's terms as its next version."""
    await session.execute(
        sa.update(PRODUCT)
        .where(PRODUCT.c.product_id == product_id)
        .values(terms.as_row() | {"version": PRODUCT.c.version + 1, "updated_at": sa.func.now()})
    )


async def list_products(
    session: AsyncSession, *, after: str | None, limit: int
) -> list[StoredProduct]:
    query = sa.select(PRODUCT).order_by(PRODUCT.c.product_id).limit(limit)
    if after is not None:
        query = query.where(PRODUCT.c.product_id > after)
    return [StoredProduct(**r) for r in (await session.execute(query)).mappings()]


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
