"""users' attributes: supervisor, skills, languages, capacity, away (BRIEF decision 12)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("supervisor", sa.String(64), nullable=True))
    op.add_column(
        "users", sa.Column("skills", ARRAY(sa.Text()), server_default="{}", nullable=False)
    )
    op.add_column(
        "users", sa.Column("languages", ARRAY(sa.Text()), server_default="{}", nullable=False)
    )
    op.add_column("users", sa.Column("capacity", sa.Integer(), nullable=True))
    op.add_column(
        "users", sa.Column("away", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    # A supervisor's team is read on every cache miss of the directory: by this index.
    op.create_index(op.f("ix_users_supervisor"), "users", ["supervisor"])


def downgrade() -> None:
    op.drop_index(op.f("ix_users_supervisor"), table_name="users")
    for column in ("away", "capacity", "languages", "skills", "supervisor"):
        op.drop_column("users", column)
