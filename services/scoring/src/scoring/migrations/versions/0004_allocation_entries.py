"""allocation entries: what a payment.reallocated event moved, beside what payments paid

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 07:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "allocation", sa.Column("entry", sa.String(36), nullable=False, server_default="")
    )
    op.drop_constraint(op.f("pk_allocation"), "allocation", type_="primary")
    op.create_primary_key(
        op.f("pk_allocation"), "allocation", ["payment_id", "reversal", "seq", "entry"]
    )


def downgrade() -> None:
    op.execute("DELETE FROM allocation WHERE entry <> ''")
    op.drop_constraint(op.f("pk_allocation"), "allocation", type_="primary")
    op.create_primary_key(op.f("pk_allocation"), "allocation", ["payment_id", "reversal", "seq"])
    op.drop_column("allocation", "entry")
