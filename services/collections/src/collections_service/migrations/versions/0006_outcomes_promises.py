"""collectors' outcomes, numbers marked invalid, promises to pay

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "contact_attempt",
        sa.Column("direction", sa.String(), server_default="outbound", nullable=False),
    )
    op.create_table(
        "contact_outcome",
        sa.Column("outcome_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=True),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("direction", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("to", sa.String(), nullable=True),
        sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("breach", sa.String(), nullable=True),
        sa.Column("recorded_by", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["collection_case.case_id"],
            name=op.f("fk_contact_outcome_case_id_collection_case"),
        ),
        sa.PrimaryKeyConstraint("outcome_id", name=op.f("pk_contact_outcome")),
    )  # fmt: skip
    op.create_index(op.f("ix_contact_outcome_case_id"), "contact_outcome", ["case_id"])
    op.create_table(
        "invalid_number",
        sa.Column("borrower_id", sa.String(64), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("borrower_id", "number", name=op.f("pk_invalid_number")),
    )
    op.create_table(
        "promise",
        sa.Column("promise_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("paid", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["collection_case.case_id"],
            name=op.f("fk_promise_case_id_collection_case"),
        ),
        sa.PrimaryKeyConstraint("promise_id", name=op.f("pk_promise")),
    )  # fmt: skip
    op.create_index(op.f("ix_promise_case_id"), "promise", ["case_id"])
    op.create_index(op.f("ix_promise_loan_id"), "promise", ["loan_id"])
    op.create_index(op.f("ix_promise_due_on"), "promise", ["due_on"])


def downgrade() -> None:
    op.drop_table("promise")
    op.drop_table("invalid_number")
    op.drop_table("contact_outcome")
    op.drop_column("contact_attempt", "direction")
