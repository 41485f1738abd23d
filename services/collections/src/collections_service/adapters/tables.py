"""Collections' tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
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
    #: the borrower's other contacts (``shared.events.Contact`` as JSON), whole, as last given
    contacts: list[dict[str, object]] = Field(
        default_factory=list,
        sa_column=sa.Column(JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    )
    #: the ``updated_at`` of the contact.updated that set ``contacts``: an older one is stale
    contacts_updated_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class LoanRefRow(Base, table=True):
    """The loan a case is about, with the jurisdiction pack its product names."""

    __tablename__ = "loan_ref"
    __table_args__ = (sa.Index("ix_loan_ref_due_dates", "due_dates", postgresql_using="gin"),)

    loan_id: str = Field(primary_key=True, max_length=64)
    borrower_id: str = Field(foreign_key="borrower_ref.borrower_id", index=True)
    product: str
    jurisdiction: str = Field(max_length=2)
    principal: Decimal = Field(sa_type=sa.Numeric(18, 2))
    currency: str = Field(max_length=3)
    disbursed_on: date
    #: the schedule's due dates (monitoring's resolved schedule): pre-due reminders read them
    due_dates: list[date] = Field(
        default_factory=list,
        sa_column=sa.Column(ARRAY(sa.Date), nullable=False, server_default="{}"),
    )
    #: what falls due on each of ``due_dates`` (principal, interest and fees), same order
    due_amounts: list[Decimal] = Field(
        default_factory=list,
        sa_column=sa.Column(ARRAY(sa.Numeric(18, 2)), nullable=False, server_default="{}"),
    )
    received_at: datetime = Field(
        sa_column=sa.Column(
            sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        )
    )
    #: the day the debt is time-barred, when the lender said (else the pack counts it)
    time_barred_on: date | None = None


def _jsonb() -> sa.Column[object]:
    return sa.Column(JSONB, nullable=False, server_default=sa.text("'{}'::jsonb"))


def _stamp() -> sa.Column[datetime]:
    return sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


class LoanStateRow(Base, table=True):
    """The latest of each loan collections knows: bucket and DPD (monitoring), tier (scoring).

    ``business_date`` is the date the delinquency fact is about: an older fact changes nothing
    (events may arrive out of order)."""

    __tablename__ = "loan_state"

    loan_id: str = Field(primary_key=True, max_length=64)
    bucket: str = Field(default="C", sa_column_kwargs={"server_default": "C"})
    dpd: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    overdue_amount: Decimal = Field(
        default=Decimal("0.00"), sa_type=sa.Numeric(18, 2), sa_column_kwargs={"server_default": "0"}
    )
    outstanding: Decimal | None = Field(default=None, sa_type=sa.Numeric(18, 2))
    business_date: date | None = None
    tier: str | None = Field(default=None, max_length=1)
    scored_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    last_payment_on: date | None = None  # time-barred debts count from it (Reg F)


class CaseRow(Base, table=True):
    """A collection case: one open per loan (a partial unique index), following its loan."""

    __tablename__ = "collection_case"
    __table_args__ = (
        sa.Index(
            "uq_collection_case_open_loan",
            "loan_id",
            unique=True,
            postgresql_where=sa.text("status = 'open'"),
        ),
    )

    case_id: uuid.UUID = Field(primary_key=True)
    loan_id: str = Field(index=True, max_length=64)
    borrower_id: str = Field(index=True, max_length=64)
    status: str = Field(default="open", max_length=10)
    opened_on: date
    closed_on: date | None = None
    close_reason: str | None = Field(default=None, max_length=20)
    dpd: int
    bucket: str
    overdue_amount: Decimal = Field(sa_type=sa.Numeric(18, 2))
    tier: str | None = Field(default=None, max_length=1)
    quadrant: str | None = None
    quadrant_signals: dict[str, object] = Field(sa_column=_jsonb())
    pack: str = Field(max_length=20)
    assignee: str | None = Field(default=None, index=True)  # whose cases: access_sql
    strategy_id: str | None = None
    strategy_version: int | None = None
    segment: str | None = None
    variant: str | None = None
    segment_entered_on: date | None = None
    created_at: datetime = Field(sa_column=_stamp())


class CaseEventRow(Base, table=True):
    """One line of a case's timeline."""

    __tablename__ = "case_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.case_id", index=True)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    business_date: date
    kind: str
    detail: dict[str, object] = Field(sa_column=_jsonb())


class StrategyVersionRow(Base, table=True):
    """A strategy document as uploaded: never edited, every upload a new version."""

    __tablename__ = "strategy_version"

    strategy_id: str = Field(primary_key=True, max_length=100)
    version: int = Field(primary_key=True)
    document: dict[str, object] = Field(sa_column=_jsonb())
    created_at: datetime = Field(sa_column=_stamp())


class ProductStrategyRow(Base, table=True):
    """Which strategy version new cases of a product follow (one per product)."""

    __tablename__ = "product_strategy"

    product: str = Field(primary_key=True)
    strategy_id: str = Field(max_length=100)
    version: int
    activated_at: datetime = Field(sa_column=_stamp())


class PackVersionRow(Base, table=True):
    """A compliance pack's document; the shipped ``cn`` and ``us`` are version 1."""

    __tablename__ = "pack_version"

    pack: str = Field(primary_key=True, max_length=20)
    version: int = Field(primary_key=True)
    document: dict[str, object] = Field(sa_column=_jsonb())
    active: bool = False
    created_at: datetime = Field(sa_column=_stamp())


class ContactDecisionRow(Base, table=True):
    """Every decision of the guard, allowed, deferred or refused: the decisions log."""

    __tablename__ = "contact_decision"

    decision_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID | None = Field(default=None, index=True)
    loan_id: str = Field(index=True, max_length=64)
    borrower_id: str = Field(index=True, max_length=64)
    recipient: str
    channel: str
    template_id: str | None = None
    purpose: str
    outcome: str = Field(max_length=10)
    rule: str | None = None
    reason: str
    pack: str = Field(max_length=20)
    pack_version: int
    decided_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    business_date: date
    deferred_until: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    request_id: uuid.UUID | None = None
    step: dict[str, object] = Field(sa_column=_jsonb())


class DeferredContactRow(Base, table=True):
    """A deferred decision waiting to be decided again at ``due_at`` (the worker's queue)."""

    __tablename__ = "deferred_contact"

    decision_id: uuid.UUID = Field(foreign_key="contact_decision.decision_id", primary_key=True)
    due_at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)


class ContactAttemptRow(Base, table=True):
    """The contact ledger, the one counter of contacts: a slot reserved by an allowed
    decision, confirmed or released by what happened."""

    __tablename__ = "contact_attempt"
    __table_args__ = (sa.Index("ix_contact_attempt_loan_purpose", "loan_id", "purpose"),)

    request_id: uuid.UUID = Field(primary_key=True)
    decision_id: uuid.UUID
    loan_id: str = Field(index=True, max_length=64)
    borrower_id: str = Field(index=True, max_length=64)
    channel: str
    recipient: str
    to: str | None = None
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    status: str = "pending"
    borrower_requested: bool = False
    purpose: str = Field(default="reminder", sa_column_kwargs={"server_default": "reminder"})
    business_date: date | None = None
    #: an inbound contact is a conversation, not an attempt counted against the caps
    direction: str = Field(default="outbound", sa_column_kwargs={"server_default": "outbound"})


class ContactPreferenceRow(Base, table=True):
    """What the borrower asked: channels stopped, hours preferred (with consent for calls)."""

    __tablename__ = "contact_preference"

    borrower_id: str = Field(primary_key=True, max_length=64)
    stopped_channels: list[str] = Field(
        sa_column=sa.Column(ARRAY(sa.Text), nullable=False, server_default="{}")
    )
    preferred_from: time | None = None
    preferred_to: time | None = None
    consent: bool = False
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class DisputeRow(Base, table=True):
    """A dispute freezes collection on its loan until resolved."""

    __tablename__ = "dispute"

    dispute_id: uuid.UUID = Field(primary_key=True)
    loan_id: str = Field(index=True, max_length=64)
    borrower_id: str = Field(max_length=64)
    reason: str
    status: str = Field(default="open", max_length=10)
    resolution: str | None = None
    opened_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    resolved_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class BorrowerSignalRow(Base, table=True):
    """What the bureau last said of a borrower (ability signals of the quadrant)."""

    __tablename__ = "borrower_signal"

    borrower_id: str = Field(primary_key=True, max_length=64)
    bureau_score: int
    bureau_score_before: int | None = None
    total_debt: Decimal = Field(sa_type=sa.Numeric(18, 2))
    delinquent_elsewhere: int
    reported_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class OutcomeRow(Base, table=True):
    """What came of a collector's contact (BRIEF decision 3), with the breach when the guard
    would have refused an outbound contact that had no decision."""

    __tablename__ = "contact_outcome"

    outcome_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.case_id", index=True)
    decision_id: uuid.UUID | None = None
    channel: str
    direction: str = "outbound"
    outcome: str
    to: str | None = None
    contacted_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    duration_s: int | None = None
    note: str | None = None
    breach: str | None = None
    recorded_by: str | None = None


class InvalidNumberRow(Base, table=True):
    """A number a ``wrong_number`` outcome marked invalid (the borrower may become unreachable)."""

    __tablename__ = "invalid_number"

    borrower_id: str = Field(primary_key=True, max_length=64)
    number: str = Field(primary_key=True)
    marked_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class PromiseRow(Base, table=True):
    """A promise to pay, judged at the close of its due date from the payments booked since."""

    __tablename__ = "promise"

    promise_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.case_id", index=True)
    loan_id: str = Field(index=True, max_length=64)
    amount: Decimal = Field(sa_type=sa.Numeric(18, 2))
    due_on: date = Field(index=True)
    paid: Decimal = Field(default=Decimal("0.00"), sa_type=sa.Numeric(18, 2))
    status: str = Field(default="pending", max_length=12)
    made_on: date
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    #: ``[{"amount": "100.00", "due_on": "2026-03-01"}, ...]``, or None for one payment.
    instalments: list[dict[str, str]] | None = Field(
        default=None, sa_column=sa.Column(JSONB(none_as_null=True), nullable=True)
    )


class TaskRow(Base, table=True):
    """A collector's task from a strategy step (a call, a field visit) in a queue."""

    __tablename__ = "task"
    # whose tasks: a collector's work queue and cases (access_sql)
    __table_args__ = (
        sa.Index(
            "ix_task_assignees",
            "assignees",
            postgresql_using="gin",
            # no pending list: a queue read right after new tasks would scan it row by row
            postgresql_with={"fastupdate": "off"},
        ),
    )

    task_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.case_id", index=True)
    kind: str
    queue: str = Field(index=True)
    due_on: date
    assignees: list[str] = Field(
        default_factory=list,
        sa_column=sa.Column(ARRAY(sa.Text), nullable=False, server_default="{}"),
    )
    status: str = Field(default="open", max_length=10)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class BusinessDayRow(Base, table=True):
    """The latest business date monitoring's end of day began (one row): what a use case
    asked for by a person counts from, when the loan's own facts are older."""

    __tablename__ = "business_day"
    __table_args__ = (sa.CheckConstraint("singleton", name="singleton"),)

    singleton: bool = Field(
        default=True, primary_key=True, sa_column_kwargs={"server_default": "true"}
    )
    business_date: date


class CaseRecoveryRow(Base, table=True):
    """A payment booked on a loan while it had an open case: what the case recovered."""

    __tablename__ = "case_recovery"

    payment_id: str = Field(primary_key=True, max_length=64)
    case_id: uuid.UUID = Field(foreign_key="collection_case.case_id", index=True)
    amount: Decimal = Field(sa_type=sa.Numeric(18, 2))
    booked_on: date


class DisputeEvidenceRow(Base, table=True):
    """A document (its metadata, a link, or its text) attached to a dispute by either side."""

    __tablename__ = "dispute_evidence"

    evidence_id: uuid.UUID = Field(primary_key=True)
    #: the order evidence arrived in (two items may share an instant)
    seq: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, sa.Identity(), nullable=False)
    )
    dispute_id: uuid.UUID = Field(foreign_key="dispute.dispute_id", index=True)
    kind: str = Field(max_length=20)
    submitted_by: str = Field(max_length=10)
    title: str = Field(max_length=200)
    text: str | None = Field(default=None, sa_type=sa.Text)
    uri: str | None = Field(default=None, max_length=1000)
    media_type: str | None = Field(default=None, max_length=100)
    added_by: str | None = Field(default=None, max_length=200)
    added_on: date | None = None  # the loan's business date (None before monitoring's first)
    added_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class DisputeOutcomeRow(Base, table=True):
    """How a dispute was resolved, and why (the dispute row keeps upheld/rejected)."""

    __tablename__ = "dispute_outcome"

    dispute_id: uuid.UUID = Field(foreign_key="dispute.dispute_id", primary_key=True)
    outcome: str = Field(max_length=10)
    summary: str = Field(sa_type=sa.Text)
    corrected_amount: Decimal | None = Field(default=None, sa_type=sa.Numeric(18, 2))
    resolved_by: str | None = Field(default=None, max_length=200)
    resolved_on: date | None = None


class DisputeReplyRow(Base, table=True):
    """A reply to the borrower about a dispute: the guard's decision and notify's request."""

    __tablename__ = "dispute_reply"

    decision_id: uuid.UUID = Field(primary_key=True)
    seq: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, sa.Identity(), nullable=False)
    )
    dispute_id: uuid.UUID = Field(foreign_key="dispute.dispute_id", index=True)
    request_id: uuid.UUID
    channel: str = Field(max_length=20)
    template_id: str = Field(max_length=100)
    sent_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class AgencyRow(Base, table=True):
    """An outside collection agency on the whitelist (only active ones take placements)."""

    __tablename__ = "agency"

    agency_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    contact_line: str = Field(max_length=200)
    active: bool
    updated_by: str | None = Field(default=None, max_length=200)
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class AgencyPlacementRow(Base, table=True):
    """A case placed (or to be placed) with an agency, once the borrower has been told."""

    __tablename__ = "agency_placement"
    __table_args__ = (
        sa.Index(
            "uq_agency_placement_live",
            "case_id",
            unique=True,
            postgresql_where=sa.text("status IN ('notice_requested', 'placed')"),
        ),
    )

    placement_id: uuid.UUID = Field(primary_key=True)
    seq: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, sa.Identity(), nullable=False)
    )
    case_id: uuid.UUID = Field(foreign_key="collection_case.case_id", index=True)
    agency_id: str = Field(foreign_key="agency.agency_id", max_length=64)
    status: str = Field(max_length=20)
    notice_request_id: uuid.UUID
    requested_on: date
    placed_on: date | None = None
    recalled_on: date | None = None
    recall_reason: str | None = Field(default=None, sa_type=sa.Text)
    requested_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class LegalFileRow(Base, table=True):
    """A case transferred to legal: court, case number, status, documents and judgment."""

    __tablename__ = "legal_file"

    legal_file_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="collection_case.case_id", unique=True)
    loan_id: str = Field(max_length=64)
    borrower_id: str = Field(index=True, max_length=64)
    status: str = Field(max_length=20)
    notice_sent_on: date
    escalated_on: date
    court: str | None = Field(default=None, max_length=200)
    court_case_number: str | None = Field(default=None, max_length=100)
    judgment_on: date | None = None
    judgment_amount: Decimal | None = Field(default=None, sa_type=sa.Numeric(18, 2))
    judgment_outcome: str | None = Field(default=None, max_length=20)
    dishonest_debtor: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
    documents: list[dict[str, object]] = Field(
        sa_column=sa.Column(JSONB, nullable=False, server_default=sa.text("'[]'::jsonb"))
    )
    escalated_by: str | None = Field(default=None, max_length=200)
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


# Tables of later features, in modules of their own, join this metadata here.
from collections_service.adapters import offer_tables as offer_tables  # noqa: E402
