"""ingested fields of BRIEF decisions 5 and 6: a loan's time_barred_on (the time_barred rule
reads it before the pack's limitation years) and a borrower's contacts (guarantor, attorney ...)
with the updated_at of the last contact.updated that set them

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("loan_ref", sa.Column("time_barred_on", sa.Date(), nullable=True))
    op.add_column(
        "borrower_ref",
        sa.Column(
            "contacts",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'[]'::jsonb"),
        ),
    )
    op.add_column(
        "borrower_ref",
        sa.Column("contacts_updated_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("borrower_ref", "contacts_updated_at")
    op.drop_column("borrower_ref", "contacts")
    op.drop_column("loan_ref", "time_barred_on")
