"""rate limits: token buckets shared by the replicas, failed logins for the lock-out

Revision ID: 0003r
Revises: 0002
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003r"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Unlogged: written on every lease a replica takes, and worthless after a crash (the
    # table is emptied then and every bucket starts full), so not worth a WAL flush each.
    op.create_table(
        "rate_buckets",
        sa.Column("bucket_key", sa.String(300), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bucket_key", name=op.f("pk_rate_buckets")),
        prefixes=["UNLOGGED"],
    )
    # Logged: a lock-out must outlive a restart of the database.
    op.create_table(
        "login_failures",
        sa.Column("failure_key", sa.String(300), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("failure_key", name=op.f("pk_login_failures")),
    )


def downgrade() -> None:
    op.drop_table("login_failures")
    op.drop_table("rate_buckets")
