"""dispute evidence and resolutions, outside agencies and placements, legal files, recoveries

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)
_MONEY = sa.Numeric(18, 2)


def _fk(column: str, table: str, key: str, of: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.{key}"], name=op.f(f"fk_{of}_{column}_{table}")
    )


def upgrade() -> None:
    _disputes()
    _agencies()
    _legal()
    op.create_table(
        "case_recovery",
        sa.Column("payment_id", sa.String(64), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("amount", _MONEY, nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        _fk("case_id", "collection_case", "case_id", "case_recovery"),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_case_recovery")),
    )
    op.create_index(op.f("ix_case_recovery_case_id"), "case_recovery", ["case_id"])
    op.create_table(
        "business_day",
        sa.Column("singleton", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.CheckConstraint("singleton", name=op.f("ck_business_day_singleton")),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_business_day")),
    )


def _disputes() -> None:
    op.create_table(
        "dispute_evidence",
        sa.Column("evidence_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("dispute_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("submitted_by", sa.String(10), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("uri", sa.String(1000), nullable=True),
        sa.Column("media_type", sa.String(100), nullable=True),
        sa.Column("added_by", sa.String(200), nullable=True),
        sa.Column("added_on", sa.Date(), nullable=True),
        sa.Column("added_at", _TS, nullable=False),
        _fk("dispute_id", "dispute", "dispute_id", "dispute_evidence"),
        sa.PrimaryKeyConstraint("evidence_id", name=op.f("pk_dispute_evidence")),
    )
    op.create_index(op.f("ix_dispute_evidence_dispute_id"), "dispute_evidence", ["dispute_id"])
    op.create_table(
        "dispute_outcome",
        sa.Column("dispute_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("corrected_amount", _MONEY, nullable=True),
        sa.Column("resolved_by", sa.String(200), nullable=True),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        _fk("dispute_id", "dispute", "dispute_id", "dispute_outcome"),
        sa.PrimaryKeyConstraint("dispute_id", name=op.f("pk_dispute_outcome")),
    )
    op.create_table(
        "dispute_reply",
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("dispute_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("template_id", sa.String(100), nullable=False),
        sa.Column("sent_by", sa.String(200), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        _fk("dispute_id", "dispute", "dispute_id", "dispute_reply"),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_dispute_reply")),
    )
    op.create_index(op.f("ix_dispute_reply_dispute_id"), "dispute_reply", ["dispute_id"])


def _agencies() -> None:
    op.create_table(
        "agency",
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("contact_line", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("agency_id", name=op.f("pk_agency")),
    )
    op.create_table(
        "agency_placement",
        sa.Column("placement_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("notice_request_id", sa.Uuid(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("placed_on", sa.Date(), nullable=True),
        sa.Column("recalled_on", sa.Date(), nullable=True),
        sa.Column("recall_reason", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(200), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        _fk("case_id", "collection_case", "case_id", "agency_placement"),
        _fk("agency_id", "agency", "agency_id", "agency_placement"),
        sa.PrimaryKeyConstraint("placement_id", name=op.f("pk_agency_placement")),
    )
    op.create_index(op.f("ix_agency_placement_case_id"), "agency_placement", ["case_id"])
    # one live placement per case: a second agency waits for the first one's recall
    op.create_index(
        "uq_agency_placement_live", "agency_placement", ["case_id"], unique=True,
        postgresql_where=sa.text("status IN ('notice_requested', 'placed')"),
    )  # fmt: skip


def _legal() -> None:
    op.create_table(
        "legal_file",
        sa.Column("legal_file_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("borrower_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("notice_sent_on", sa.Date(), nullable=False),
        sa.Column("escalated_on", sa.Date(), nullable=False),
        sa.Column("court", sa.String(200), nullable=True),
        sa.Column("court_case_number", sa.String(100), nullable=True),
        sa.Column("judgment_on", sa.Date(), nullable=True),
        sa.Column("judgment_amount", _MONEY, nullable=True),
        sa.Column("judgment_outcome", sa.String(20), nullable=True),
        sa.Column("dishonest_debtor", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("documents", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"),
                  nullable=False),
        sa.Column("escalated_by", sa.String(200), nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        _fk("case_id", "collection_case", "case_id", "legal_file"),
        sa.PrimaryKeyConstraint("legal_file_id", name=op.f("pk_legal_file")),
        sa.UniqueConstraint("case_id", name=op.f("uq_legal_file_case_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_legal_file_borrower_id"), "legal_file", ["borrower_id"])


def downgrade() -> None:
    for table in ("business_day", "legal_file", "agency_placement", "agency", "dispute_reply",
                  "dispute_outcome", "dispute_evidence", "case_recovery"):  # fmt: skip
        op.drop_table(table)
