"""offers, the on-time points ledger, and what each payment paid per instalment

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(18, 2)


def upgrade() -> None:
    op.create_table(
        "offer",
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("borrower_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("pay_amount", MONEY, nullable=True),
        sa.Column("schedule", postgresql.JSONB(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("approved_by", sa.String(), nullable=True),
        sa.Column("approval", sa.String(20), nullable=True),
        sa.Column("outstanding", MONEY, nullable=True),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("accepted_on", sa.Date(), nullable=True),
        sa.Column("booked_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["collection_case.case_id"], name=op.f("fk_offer_case_id_collection_case")
        ),
        sa.PrimaryKeyConstraint("offer_id", name=op.f("pk_offer")),
    )
    op.create_index(op.f("ix_offer_case_id"), "offer", ["case_id"])
    op.create_index(op.f("ix_offer_loan_id"), "offer", ["loan_id"])
    op.create_index(op.f("ix_offer_expires_on"), "offer", ["expires_on"])
    op.create_table(
        "points_entry",
        sa.Column("entry_key", sa.String(), nullable=False),
        sa.Column("borrower_id", sa.String(64), nullable=False),
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entry_key", name=op.f("pk_points_entry")),
    )
    op.create_index(op.f("ix_points_entry_borrower_id"), "points_entry", ["borrower_id"])
    op.create_table(
        "instalment_paid",
        sa.Column("payment_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("penalty", MONEY, nullable=False),
        sa.Column("billed", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("payment_id", "seq", name=op.f("pk_instalment_paid")),
    )
    op.create_index(op.f("ix_instalment_paid_loan_id"), "instalment_paid", ["loan_id"])


def downgrade() -> None:
    op.drop_table("instalment_paid")
    op.drop_table("points_entry")
    op.drop_table("offer")
