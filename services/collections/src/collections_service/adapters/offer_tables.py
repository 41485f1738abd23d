"""Tables of offers and the points ledger (imported by :mod:`.tables`, whose metadata they
join)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from collections_service.adapters.tables import Base

MONEY = sa.Numeric(18, 2)


class OfferRow(Base, table=True):
    """An incentive or settlement offered on a case, as it moved through its states."""

    __tablename__ = "offer"

    offer_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.case_id", index=True)
    loan_id: str = Field(index=True, max_length=64)
    borrower_id: str = Field(max_length=64)
    kind: str = Field(max_length=30)
    amount: Decimal = Field(sa_type=MONEY)
    pay_amount: Decimal | None = Field(default=None, sa_type=MONEY)
    schedule: list[dict[str, str]] | None = Field(default=None, sa_column=sa.Column(JSONB))
    points: int | None = None
    expires_on: date = Field(index=True)
    status: str = Field(max_length=20)
    created_by: str
    approved_by: str | None = None
    #: why it is approved: creator_limit, approver_limit, points, quick_cure
    approval: str | None = Field(default=None, max_length=20)
    #: the loan's outstanding the limits were judged against
    outstanding: Decimal | None = Field(default=None, sa_type=MONEY)
    made_on: date
    accepted_on: date | None = None
    booked_on: date | None = None
    reason: str | None = None
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class PointsEntryRow(Base, table=True):
    """One move of a borrower's on-time points; ``entry_key`` names its cause, so that a cause
    redelivered adds nothing."""

    __tablename__ = "points_entry"

    entry_key: str = Field(primary_key=True)
    borrower_id: str = Field(index=True, max_length=64)
    loan_id: str = Field(max_length=64)
    points: int  # earned > 0, redeemed < 0
    reason: str = Field(max_length=20)  # earned | redeemed | returned | clawed_back
    on: date
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class InstalmentPaidRow(Base, table=True):
    """What one payment paid on one instalment (from ``payment.applied``): whether an instalment
    was paid on time, and the penalty paid during a case, are read from these."""

    __tablename__ = "instalment_paid"

    payment_id: str = Field(primary_key=True, max_length=64)
    seq: int = Field(primary_key=True)
    loan_id: str = Field(index=True, max_length=64)
    booked_on: date
    penalty: Decimal = Field(sa_type=MONEY)
    billed: Decimal = Field(sa_type=MONEY)  # principal, interest and fees
