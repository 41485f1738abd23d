"""feature segments: the nightly batch reads the day's features instead of every history

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 04:10:00
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
        "feature_segment",
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("features", postgresql.ARRAY(sa.Float(precision=53)), nullable=True),
        sa.Column("ticks", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("loan_id", "starts_on", name=op.f("pk_feature_segment")),
    )
    # Loans scored before segments existed have none: the next batch reads their history.
    op.add_column("loan_terms", sa.Column("features_on", sa.Date(), nullable=True))
    op.add_column("loan_terms", sa.Column("features_change_on", sa.Date(), nullable=True))
    op.create_index(op.f("ix_loan_terms_features_change_on"), "loan_terms", ["features_change_on"])
    # Room on each page for a new version of its rows: a score moving in place (a HOT update)
    # then leaves the indexes alone. Takes effect on pages written from now on.
    op.execute("ALTER TABLE score SET (fillfactor = 80)")
    op.add_column(
        "rescore_run",
        sa.Column("every_loan", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE score RESET (fillfactor)")
    op.drop_column("rescore_run", "every_loan")
    op.drop_index(op.f("ix_loan_terms_features_change_on"), table_name="loan_terms")
    op.drop_column("loan_terms", "features_change_on")
    op.drop_column("loan_terms", "features_on")
    op.drop_table("feature_segment")
