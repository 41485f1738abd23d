"""drop the payment status index: nearly every row is "applied", so it never narrows a search

With stale statistics the planner once chose it to drive a nested loop over every payment
(the shrinking-repayments rule, 21 ms a payment at 400 payments); every payment also paid for
its upkeep.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 06:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index(op.f("ix_payment_status"), table_name="payment")


def downgrade() -> None:
    op.create_index(op.f("ix_payment_status"), "payment", ["status"], unique=False)
