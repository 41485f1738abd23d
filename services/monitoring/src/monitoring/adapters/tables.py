"""Monitoring's tables: the only ``table=True`` classes of the service."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.db import new_registry


class Base(SQLModel, registry=new_registry()):
    """Monitoring's tables share this metadata (migrated by Alembic)."""


MONEY = sa.Numeric(18, 2)


class BorrowerRow(Base, table=True):
    __tablename__ = "borrower"

    borrower_id: str = Field(primary_key=True, max_length=64)
    name: str
    phone: str
    email: str | None = None
    national_id: str | None = None
    time_zone: str
    locale: str


class LoanRow(Base, table=True):
    __tablename__ = "loan"

    loan_id: str = Field(primary_key=True, max_length=64)
    borrower_id: str = Field(foreign_key="borrower.borrower_id", index=True)
    product: str
    status: str = Field(index=True)
    principal: Decimal = Field(sa_type=MONEY)
    currency: str = Field(max_length=3)
    annual_rate: Decimal = Field(sa_type=sa.Numeric(9, 6))
    term_months: int
    repayment_method: str
    disbursed_on: date
    first_due_on: date
    jurisdiction: str
    dpd: int = 0
    bucket: str = "C"
    fingerprint: str = Field(max_length=64)
    registered_at: datetime = Field(
        sa_column=sa.Column(
            sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        )
    )


class InstalmentRow(Base, table=True):
    __tablename__ = "instalment"

    loan_id: str = Field(foreign_key="loan.loan_id", primary_key=True)
    seq: int = Field(primary_key=True)
    due_on: date
    principal: Decimal = Field(sa_type=MONEY)
    interest: Decimal = Field(sa_type=MONEY)
    fees: Decimal = Field(sa_type=MONEY)
    paid_principal: Decimal = Field(default=Decimal("0.00"), sa_type=MONEY)
    paid_interest: Decimal = Field(default=Decimal("0.00"), sa_type=MONEY)
    paid_fees: Decimal = Field(default=Decimal("0.00"), sa_type=MONEY)
