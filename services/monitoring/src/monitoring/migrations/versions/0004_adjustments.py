"""adjustments: accepted offers booked off loans, once each

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 16:30:00
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
        "adjustment",
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("credit", sa.Numeric(18, 2), nullable=False),
        sa.Column("lines", postgresql.JSONB(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loan.loan_id"], name=op.f("fk_adjustment_loan_id_loan")
        ),
        sa.PrimaryKeyConstraint("offer_id", name=op.f("pk_adjustment")),
    )
    op.create_index(op.f("ix_adjustment_loan_id"), "adjustment", ["loan_id"])


def downgrade() -> None:
    op.drop_table("adjustment")
