"""Routes of loan products: create, change, read, list."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator

from monitoring.domain.payoff import Part
from monitoring.domain.products import ProductTerms, parse_waterfall
from monitoring.service_layer.products import (
    StoredProduct,
    change_product,
    create_product,
    page_of_products,
    read_product,
)
from shared.app import SessionDep
from shared.pagination import decode_cursor, encode_cursor
from shared.params import Cursor, PageLimit
from shared.types import CurrencyCode, ExternalId

router = APIRouter(prefix="/api/v1/products", tags=["products"])

#: A rate or multiple, shown as given ("1.5", "0.24") however many places it is stored with.
Ratio = Annotated[
    Decimal,
    PlainSerializer(lambda v: format(v.normalize(), "f"), return_type=str, when_used="json"),
]


class ProductBase(BaseModel):
    """A product's terms as a client sets them."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    currency: CurrencyCode = "CNY"
    #: Penalty rate as a multiple of the contract rate (1.5 = 150% of it).
    penalty_multiplier: Ratio = Field(ge=0, max_digits=6, decimal_places=4)
    #: Cap on the loan's annualised cost, contract rate plus penalty (0.24 = 24% APR).
    cost_cap_apr: Ratio = Field(gt=0, max_digits=9, decimal_places=6)
    grace_days: int = Field(default=0, ge=0, le=365)
    waterfall: list[str] = Field(default_factory=lambda: [p.value for p in Part])
    jurisdiction: Literal["cn", "us"] = "cn"

    @field_validator("waterfall")
    @classmethod
    def _permutation(cls, value: list[str]) -> list[str]:
        parse_waterfall(value)
        return value

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


class ProductCreate(ProductBase):
    product_id: ExternalId


class ProductUpdate(ProductBase):
    """The whole of a product's new terms (``PUT``)."""


class ProductPublic(ProductCreate):
    version: int
    updated_at: datetime


class ProductPage(BaseModel):
    items: list[ProductPublic]
    next_cursor: str | None


@router.post(
    "",
    response_model=ProductPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": ProductPublic, "description": "Exists already with these terms"},
        409: {"description": "Exists with other terms"},
    },
)
async def post_product(
    body: ProductCreate, session: SessionDep, response: Response
) -> ProductPublic:
    """Create a loan product (idempotent on ``product_id``)."""
    if not await create_product(session, body.product_id, body.terms()):
        response.status_code = status.HTTP_200_OK
    return _public(await read_product(session, body.product_id))


@router.put("/{product_id}", response_model=ProductPublic)
async def put_product(
    product_id: ExternalId, body: ProductUpdate, session: SessionDep
) -> ProductPublic:
    """Replace a product's terms; a change makes its next version."""
    await change_product(session, product_id, body.terms())
    return _public(await read_product(session, product_id))


@router.get("/{product_id}", response_model=ProductPublic)
async def get_product(product_id: ExternalId, session: SessionDep) -> ProductPublic:
    """A loan product with its current version."""
    return _public(await read_product(session, product_id))


@router.get("", response_model=ProductPage)
async def list_products(
    session: SessionDep,
    cursor: Cursor | None = None,
    limit: PageLimit = 50,
) -> ProductPage:
    """Products by id, one page at a time (pass ``next_cursor`` back as ``cursor``)."""
    rows = await page_of_products(session, after=decode_cursor(cursor), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].product_id) if more else None
    return ProductPage(items=[_public(r) for r in rows], next_cursor=next_cursor)


def _public(product: StoredProduct) -> ProductPublic:
    return ProductPublic.model_validate(product, from_attributes=True)
