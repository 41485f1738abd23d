"""collections' contact preferences and disputes, mirrored for the send-time checks

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mirrored_preference",
        sa.Column("borrower_id", sa.String(64), nullable=False),
        sa.Column(
            "stopped_channels", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("preferred_from", sa.Time(), nullable=True),
        sa.Column("preferred_to", sa.Time(), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("borrower_id", name=op.f("pk_mirrored_preference")),
    )
    op.create_table(
        "mirrored_dispute",
        sa.Column("dispute_id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("borrower_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("dispute_id", name=op.f("pk_mirrored_dispute")),
    )
    op.create_index(op.f("ix_mirrored_dispute_loan_id"), "mirrored_dispute", ["loan_id"])
    op.create_index(op.f("ix_mirrored_dispute_borrower_id"), "mirrored_dispute", ["borrower_id"])


def downgrade() -> None:
    op.drop_table("mirrored_dispute")
    op.drop_table("mirrored_preference")
