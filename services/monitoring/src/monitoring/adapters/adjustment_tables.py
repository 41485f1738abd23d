"""The table of offers booked off loans (imported by :mod:`.tables`, whose metadata it joins)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from monitoring.adapters.tables import MONEY, Base


class AdjustmentRow(Base, table=True):
    """One accepted offer as monitoring booked (or refused) it: its ``offer_id`` is the key that
    makes a redelivered booking request change nothing."""

    __tablename__ = "adjustment"

    offer_id: uuid.UUID = Field(primary_key=True)
    loan_id: str = Field(foreign_key="loan.loan_id", index=True, max_length=64)
    kind: str = Field(max_length=30)
    amount: Decimal = Field(sa_type=MONEY)
    status: str = Field(max_length=10)  # booked | rejected
    #: the part of the amount credited off principal in lieu of paid penalty or future interest
    credit: Decimal = Field(sa_type=MONEY)
    lines: list[dict[str, str]] = Field(sa_column=sa.Column(JSONB, nullable=False))
    reason: str | None = None
    booked_on: date
    recorded_at: datetime = Field(
        sa_column=sa.Column(
            sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        )
    )
