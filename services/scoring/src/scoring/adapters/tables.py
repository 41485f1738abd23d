"""Scoring's tables."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from scoring.domain.json_object import JsonObject
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
    closed_on: date | None = None  # settled, written off or closed: no longer rescored
    # The day the loan's features were last evaluated, and the day the nightly batch takes
    # it next (None: never evaluated): see FeatureSegmentRow and service_layer.nightly.
    features_on: date | None = None
    features_change_on: date | None = Field(default=None, index=True)
    received_at: datetime = Field(
        sa_column=sa.Column(
            sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        )
    )


# --- the facts features are built from (point in time: each carries its date) --------------


class InstalmentRow(Base, table=True):
    """A scheduled instalment, from the resolved schedule of ``monitoring.loan.registered``."""

    __tablename__ = "scheduled_instalment"

    loan_id: str = Field(primary_key=True, max_length=64)
    seq: int = Field(primary_key=True)
    due_on: date
    principal: Decimal = Field(sa_type=sa.Numeric(18, 2))
    due: Decimal = Field(sa_type=sa.Numeric(18, 2))  # principal + interest + fees


class AllocationRow(Base, table=True):
    """Money a payment put on one instalment (negative when the payment was reversed)."""

    __tablename__ = "allocation"

    payment_id: str = Field(primary_key=True, max_length=64)
    reversal: bool = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    #: Empty for what a payment paid or its reversal took back; the ``payment.reallocated``
    #: event's id for what a reallocation moved (new lines minus previous ones).
    entry: str = Field(
        default="", primary_key=True, max_length=36, sa_column_kwargs={"server_default": ""}
    )
    loan_id: str = Field(index=True, max_length=64)
    booked_on: date
    principal: Decimal = Field(sa_type=sa.Numeric(18, 2))
    total: Decimal = Field(sa_type=sa.Numeric(18, 2))


class BureauRow(Base, table=True):
    """A bureau report on a borrower, from ``monitoring.bureau.recorded``."""

    __tablename__ = "bureau_point"

    borrower_id: str = Field(primary_key=True, max_length=64)
    reported_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), primary_key=True))
    reported_on: date
    score: int
    inquiries_30d: int
    open_loans: int
    delinquent_accounts: int


class AlertRow(Base, table=True):
    """An early-warning alert raised on a loan, from ``monitoring.alert.raised``."""

    __tablename__ = "alert_point"

    alert_id: str = Field(primary_key=True, max_length=64)
    loan_id: str = Field(index=True, max_length=64)
    rule: str = Field(max_length=64)
    raised_on: date


class ClockRow(Base, table=True):
    """The latest business date monitoring announced (one row): scores are as of it."""

    __tablename__ = "business_clock"

    id: int = Field(default=1, primary_key=True)
    business_date: date


class FeatureSegmentRow(Base, table=True):
    """The features of a loan's days ahead, as long as no new fact arrives (domain.timeline):
    from ``starts_on``, ``features`` in BEHAVIOUR_FEATURES order (none: read the history
    again) and whether days past due grow by one a day."""

    __tablename__ = "feature_segment"

    loan_id: str = Field(primary_key=True, max_length=64)
    starts_on: date = Field(primary_key=True)
    features: list[float | None] | None = Field(
        default=None, sa_type=postgresql.ARRAY(sa.Float(precision=53))
    )
    ticks: bool


# --- models and scores ----------------------------------------------------------------------


class ModelRow(Base, table=True):
    """A registered model: its served document, training report and reference distributions."""

    __tablename__ = "model"

    version: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=20)
    status: str = Field(index=True, max_length=20)  # challenger | champion | retired
    fingerprint: str = Field(max_length=64)  # of the training data
    features: list[str] = Field(sa_type=JSONB)
    document: JsonObject = Field(sa_type=JSONB)
    report: JsonObject = Field(sa_type=JSONB)
    reference: JsonObject = Field(sa_type=JSONB)  # development-sample bin counts
    registered_at: datetime = Field(
        sa_column=sa.Column(
            sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        )
    )


class ModelEventRow(Base, table=True):
    """The audit trail of the registry: who registered, promoted or rolled back what, when."""

    __tablename__ = "model_event"

    id: int | None = Field(default=None, primary_key=True)
    action: str = Field(max_length=20)  # registered | promoted | rolled_back | retired
    version: str = Field(max_length=64)
    previous_champion: str | None = Field(default=None, max_length=64)
    actor: str = Field(max_length=200)
    reason: str | None = Field(default=None, max_length=500)
    at: datetime = Field(
        sa_column=sa.Column(
            sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        )
    )


class ScoreRow(Base, table=True):
    """The current score of a loan under one model (champion and shadow challengers)."""

    __tablename__ = "score"
    __table_args__ = (sa.Index("ix_score_model_tier", "model_version", "tier"),)

    loan_id: str = Field(primary_key=True, max_length=64)
    model_version: str = Field(primary_key=True, max_length=64)
    as_of: date
    pd: float
    score: int
    tier: str = Field(max_length=1)
    reasons: list[JsonObject] = Field(sa_type=JSONB)
    features: JsonObject = Field(sa_type=JSONB)
    # A digest of ``features``: whether they moved is told without reading the JSON back.
    features_key: int = Field(sa_type=sa.BigInteger)
    scored_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class ScoreHistoryRow(Base, table=True):
    """Every change of a loan's score under a model, with the features it was computed from."""

    __tablename__ = "score_history"
    __table_args__ = (sa.Index("ix_score_history_loan", "loan_id", "model_version", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    loan_id: str = Field(max_length=64)
    model_version: str = Field(max_length=64)
    as_of: date
    pd: float
    score: int
    tier: str = Field(max_length=1)
    reasons: list[JsonObject] = Field(sa_type=JSONB)
    features: JsonObject = Field(sa_type=JSONB)
    scored_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class RescoreRunRow(Base, table=True):
    """The batch rescoring of the portfolio after an end of day, resumable by its cursor."""

    __tablename__ = "rescore_run"

    run_id: str = Field(primary_key=True, max_length=200)  # EOD run id, or why else
    as_of: date
    status: str = Field(max_length=20)  # running | completed
    cursor: str = Field(default="", max_length=64)  # the last loan id done
    # After a champion change every loan's live score is another model's: announce them all.
    announce_all: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    # Every open loan (a new live model), not only those whose features can move by ``as_of``.
    every_loan: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    loans_done: int = 0
    changed: int = 0
    started_at: datetime = Field(
        sa_column=sa.Column(
            sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        )
    )
    finished_at: datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True)
    )


class DriftReportRow(Base, table=True):
    """A population-stability check of a model: score PSI and per-characteristic CSI."""

    __tablename__ = "drift_report"

    id: int | None = Field(default=None, primary_key=True)
    model_version: str = Field(index=True, max_length=64)
    as_of: date
    status: str = Field(max_length=10)  # stable | warn | act (the worst of all)
    result: JsonObject = Field(sa_type=JSONB)
    computed_at: datetime = Field(
        sa_column=sa.Column(
            sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        )
    )
