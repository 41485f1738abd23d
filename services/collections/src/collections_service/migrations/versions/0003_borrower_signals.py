"""the bureau's signals of ability, and the quadrant's inputs on each case

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "borrower_signal",
        sa.Column("borrower_id", sa.String(64), nullable=False),
        sa.Column("bureau_score", sa.Integer(), nullable=False),
        sa.Column("bureau_score_before", sa.Integer(), nullable=True),
        sa.Column("total_debt", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("delinquent_elsewhere", sa.Integer(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("borrower_id", name=op.f("pk_borrower_signal")),
    )
    op.add_column(
        "collection_case",
        sa.Column(
            "quadrant_signals",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("collection_case", "quadrant_signals")
    op.drop_table("borrower_signal")
