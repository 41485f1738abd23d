"""Notify's tables."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
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


def _now_column() -> sa.Column[datetime]:
    return sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


class TemplateRow(Base, table=True):
    """A template's head: its id and the number of its latest version (versions serialise on
    this row, so two uploads at once get consecutive numbers)."""

    __tablename__ = "template"

    template_id: str = Field(primary_key=True, max_length=64)
    latest_version: int
    created_at: datetime = Field(sa_column=_now_column())
    updated_at: datetime = Field(sa_column=_now_column())


class TemplateVersionRow(Base, table=True):
    """One uploaded version of a template; never updated (every upload is a new version)."""

    __tablename__ = "template_version"

    template_id: str = Field(primary_key=True, max_length=64, foreign_key="template.template_id")
    version: int = Field(primary_key=True)
    channel: str = Field(max_length=16)
    purpose: str = Field(max_length=32)
    # The checked document: channel, purpose, variables and the text of each locale.
    document: dict[str, object] = Field(sa_column=sa.Column(JSONB(), nullable=False))
    created_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=_now_column())
