"""Scoring's tables."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.db import new_registry


class Base(SQLModel, registry=new_registry()):
    """Scoring's tables share this metadata (migrated by Alembic)."""


class LoanTermsRow(Base, table=True):
    """The contractual terms of a loan, as announced by monitoring: model inputs."""

    __tablename__ = "loan_terms"

    loan_id: str = Field(primary_key=True, max_length=64)
    borrower_id: str = Field(index=True, max_length=64)
    product: str
    principal: Decimal = Field(sa_type=sa.Numeric(18, 2))
    currency: str = Field(max_length=3)
    annual_rate: Decimal = Field(sa_type=sa.Numeric(9, 6))
    term_months: int
    repayment_method: str
    disbursed_on: date
    first_due_on: date
    received_at: datetime = Field(
        sa_column=sa.Column(
            sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        )
    )
