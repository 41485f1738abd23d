"""Collections' tables."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.db import new_registry


class Base(SQLModel, registry=new_registry()):
    """Collections' tables share this metadata (migrated by Alembic)."""


class BorrowerRefRow(Base, table=True):
    """Who may be contacted about a debt, and in which time zone (compliance needs it)."""

    __tablename__ = "borrower_ref"

    borrower_id: str = Field(primary_key=True, max_length=64)
    name: str
    phone: str
    email: str | None = None
    time_zone: str
    locale: str


class LoanRefRow(Base, table=True):
    """The loan a case is about, with the jurisdiction pack its product names."""

    __tablename__ = "loan_ref"

    loan_id: str = Field(primary_key=True, max_length=64)
    borrower_id: str = Field(foreign_key="borrower_ref.borrower_id", index=True)
    product: str
    jurisdiction: str = Field(max_length=2)
    principal: Decimal = Field(sa_type=sa.Numeric(18, 2))
    currency: str = Field(max_length=3)
    disbursed_on: date
    received_at: datetime = Field(
        sa_column=sa.Column(
            sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        )
    )
