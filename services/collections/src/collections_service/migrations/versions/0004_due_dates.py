"""each loan's due dates and amounts, for pre-due reminders

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
    op.add_column(
        "loan_ref",
        sa.Column("due_dates", postgresql.ARRAY(sa.Date()), server_default="{}", nullable=False),
    )
    op.add_column(
        "loan_ref",
        sa.Column(
            "due_amounts",
            postgresql.ARRAY(sa.Numeric(precision=18, scale=2)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.create_index("ix_loan_ref_due_dates", "loan_ref", ["due_dates"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_loan_ref_due_dates", table_name="loan_ref")
    op.drop_column("loan_ref", "due_amounts")
    op.drop_column("loan_ref", "due_dates")
