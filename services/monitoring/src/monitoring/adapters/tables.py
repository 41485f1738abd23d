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
    phone_valid: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    email_valid: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})


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
    due_on: date = Field(index=True)  # end-of-day rules select instalments by due date
    principal: Decimal = Field(sa_type=MONEY)
    interest: Decimal = Field(sa_type=MONEY)
    fees: Decimal = Field(sa_type=MONEY)
    paid_principal: Decimal = Field(
        default=Decimal("0.00"), sa_type=MONEY, sa_column_kwargs={"server_default": "0"}
    )
    paid_interest: Decimal = Field(
        default=Decimal("0.00"), sa_type=MONEY, sa_column_kwargs={"server_default": "0"}
    )
    paid_fees: Decimal = Field(
        default=Decimal("0.00"), sa_type=MONEY, sa_column_kwargs={"server_default": "0"}
    )
    #: Penalty interest (罚息) accrued at end of day on this instalment's overdue principal.
    penalty: Decimal = Field(
        default=Decimal("0.00"), sa_type=MONEY, sa_column_kwargs={"server_default": "0"}
    )
    paid_penalty: Decimal = Field(
        default=Decimal("0.00"), sa_type=MONEY, sa_column_kwargs={"server_default": "0"}
    )


def _now_column() -> sa.Column[datetime]:
    return sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


class ProductRow(Base, table=True):
    """A loan product's rules: penalty rate, cost cap, grace days, waterfall, jurisdiction."""

    __tablename__ = "product"

    product_id: str = Field(primary_key=True, max_length=64)
    name: str
    currency: str = Field(max_length=3)
    #: Penalty interest rate as a multiple of the contract rate (default 1.5 ×).
    penalty_multiplier: Decimal = Field(sa_type=sa.Numeric(6, 4))
    #: Cap on the total annualised cost (contract rate + penalty), e.g. 0.24 for 24% APR.
    cost_cap_apr: Decimal = Field(sa_type=sa.Numeric(9, 6))
    grace_days: int = 0
    #: Allocation order inside an instalment, e.g. ``["penalty", "fees", "interest", "principal"]``.
    waterfall: list[str] = Field(sa_column=sa.Column(sa.ARRAY(sa.String()), nullable=False))
    jurisdiction: str = Field(max_length=2)
    version: int = 1
    updated_at: datetime = Field(sa_column=_now_column())


class PaymentRow(Base, table=True):
    """A repayment as received (idempotent on ``payment_id``); reversal keeps the row."""

    __tablename__ = "payment"

    payment_id: str = Field(primary_key=True, max_length=64)
    loan_id: str = Field(foreign_key="loan.loan_id", index=True)
    amount: Decimal = Field(sa_type=MONEY)
    currency: str = Field(max_length=3)
    paid_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    channel: str
    #: Business date on which the payment was booked.
    booked_on: date = Field(index=True)  # back-tests replay payments by booking date
    #: Part of the amount that found nothing to pay (the loan was already settled).
    unapplied: Decimal = Field(default=Decimal("0.00"), sa_type=MONEY)
    # No index: nearly every row is "applied", and a stale planner estimate once made it the
    # driver of a nested loop over the whole table (the shrinking-repayments rule).
    status: str = Field(default="applied")  # applied | reversed
    reversed_at: datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True)
    )
    reversal_reason: str | None = None
    fingerprint: str = Field(max_length=64)
    received_at: datetime = Field(sa_column=_now_column())


class AllocationRow(Base, table=True):
    """What one payment paid on one instalment; a reversal re-opens exactly these amounts."""

    __tablename__ = "allocation"

    payment_id: str = Field(foreign_key="payment.payment_id", primary_key=True)
    seq: int = Field(primary_key=True)
    loan_id: str = Field(index=True, max_length=64)
    penalty: Decimal = Field(sa_type=MONEY)
    fees: Decimal = Field(sa_type=MONEY)
    interest: Decimal = Field(sa_type=MONEY)
    principal: Decimal = Field(sa_type=MONEY)


class BusinessDateRow(Base, table=True):
    """The platform's business date (one row), moved on only by the end-of-day batch."""

    __tablename__ = "business_date"

    id: int = Field(default=1, primary_key=True)
    business_date: date | None = None


class EodRunRow(Base, table=True):
    """One end-of-day run for one date: progress, outcome, and the step it reached."""

    __tablename__ = "eod_run"

    run_id: str = Field(primary_key=True, max_length=36)
    as_of: date = Field(unique=True)
    status: str  # running | completed | failed
    step: str
    loans_total: int = 0
    loans_done: int = 0
    transitions: int = 0
    error: str | None = None
    started_at: datetime = Field(sa_column=_now_column())
    finished_at: datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True)
    )


class SnapshotRow(Base, table=True):
    """Each open loan's delinquency and balances at the end of a business date."""

    __tablename__ = "delinquency_snapshot"

    as_of: date = Field(primary_key=True)
    loan_id: str = Field(primary_key=True, max_length=64)
    product: str
    disbursed_on: date
    dpd: int
    bucket: str
    status: str
    outstanding_principal: Decimal = Field(sa_type=MONEY)
    outstanding_total: Decimal = Field(sa_type=MONEY)


class RuleRow(Base, table=True):
    """A version of an early-warning rule: parameters are data, versions are never edited."""

    __tablename__ = "rule"

    rule: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    params: dict[str, object] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    severity: str
    enabled: bool = False
    created_at: datetime = Field(sa_column=_now_column())


class AlertRow(Base, table=True):
    """An early warning raised on a loan, with the evidence that fired it and its workflow."""

    __tablename__ = "alert"
    __table_args__ = (
        # At most one open (or acknowledged) alert per rule and loan.
        sa.Index(
            "uq_alert_open_rule_loan",
            "rule",
            "loan_id",
            unique=True,
            postgresql_where=sa.text("status <> 'resolved'"),
        ),
    )

    alert_id: str = Field(primary_key=True, max_length=36)
    loan_id: str = Field(index=True, max_length=64)
    rule: str
    rule_version: int
    severity: str
    status: str = Field(index=True)  # open | acknowledged | resolved
    evidence: dict[str, object] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    raised_on: date
    raised_at: datetime = Field(sa_column=_now_column())
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True)
    )
    resolved_by: str | None = None
    resolved_at: datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True)
    )


class BureauReportRow(Base, table=True):
    """A credit bureau report on a borrower; the history is kept."""

    __tablename__ = "bureau_report"

    borrower_id: str = Field(primary_key=True, max_length=64)
    reported_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), primary_key=True))
    score: int
    inquiries_30d: int
    open_loans: int
    total_debt: Decimal = Field(sa_type=MONEY)
    delinquent_accounts: int
    received_at: datetime = Field(sa_column=_now_column())


# Tables of later features, in modules of their own, join this metadata here.
from monitoring.adapters import adjustment_tables as adjustment_tables  # noqa: E402
