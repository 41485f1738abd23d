"""what each contact was for and on which business date; each loan's last payment

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "contact_attempt",
        sa.Column("purpose", sa.String(), server_default="reminder", nullable=False),
    )
    op.add_column("contact_attempt", sa.Column("business_date", sa.Date(), nullable=True))
    op.add_column("loan_state", sa.Column("last_payment_on", sa.Date(), nullable=True))
    op.create_index("ix_contact_attempt_loan_purpose", "contact_attempt", ["loan_id", "purpose"])


def downgrade() -> None:
    op.drop_index("ix_contact_attempt_loan_purpose", table_name="contact_attempt")
    op.drop_column("loan_state", "last_payment_on")
    op.drop_column("contact_attempt", "business_date")
    op.drop_column("contact_attempt", "purpose")
