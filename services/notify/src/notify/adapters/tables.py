"""Notify's tables."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.db import new_registry


class Base(SQLModel, registry=new_registry()):
    """Notify's tables share this metadata (migrated by Alembic)."""


class RecipientRow(Base, table=True):
    """How a borrower can be reached: channels, language and local time zone."""

    __tablename__ = "recipient"

    borrower_id: str = Field(primary_key=True, max_length=64)
    name: str
    phone: str | None = None
    email: str | None = None
    phone_valid: bool = True
    email_valid: bool = True
    locale: str
    time_zone: str


class LoanRecipientRow(Base, table=True):
    """Whom messages about a loan go to."""

    __tablename__ = "loan_recipient"

    loan_id: str = Field(primary_key=True, max_length=64)
    borrower_id: str = Field(foreign_key="recipient.borrower_id", index=True)
    received_at: datetime = Field(
        sa_column=sa.Column(
            sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        )
    )
