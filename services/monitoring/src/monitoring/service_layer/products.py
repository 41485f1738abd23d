"""Use cases: create, change and read loan products."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters import products_sql
from monitoring.adapters.products_sql import StoredProduct as StoredProduct  # the routes' view
from monitoring.domain.products import ProductTerms
from shared.problems import Conflict, NotFound


async def create_product(session: AsyncSession, product_id: str, terms: ProductTerms) -> bool:
    """Store a new product at version 1; True if new, False if the same terms exist already.

    Raises :class:`Conflict` when the id is taken by a product with other terms.
    """
    if await products_sql.insert_product(session, product_id, terms):
        return True
    stored = await products_sql.get_product(session, product_id)
    if stored is None or terms != stored.terms():
        raise Conflict(f"product {product_id!r} exists with other terms", product_id=product_id)
    return False


async def change_product(session: AsyncSession, product_id: str, terms: ProductTerms) -> bool:
    """Replace a product's terms as its next version; False when nothing changed.

    Raises :class:`NotFound` for an unknown product and :class:`Conflict` for a change of
    currency once loans use the product (their amounts are in the old one).
    """
    stored = await products_sql.get_product(session, product_id, for_update=True)
    if stored is None:
        raise NotFound("product", product_id)
    if terms == stored.terms():  # numbers compare by value
        return False
    if terms.currency != stored.currency and await products_sql.product_has_loans(
        session, product_id
    ):
        raise Conflict(
            f"product {product_id!r} has loans in {stored.currency}: its currency is fixed",
            product_id=product_id,
        )
    await products_sql.update_product(session, product_id, terms)
    return True


async def read_product(session: AsyncSession, product_id: str) -> StoredProduct:
    product = await products_sql.get_product(session, product_id)
    if product is None:
        raise NotFound("product", product_id)
    return product


async def page_of_products(
    session: AsyncSession, *, after: str | None, limit: int
) -> list[StoredProduct]:
    """Products ordered by id after ``after`` (keyset pagination), at most ``limit``."""
    return await products_sql.list_products(session, after=after, limit=limit)
