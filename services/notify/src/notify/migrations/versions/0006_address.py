"""a borrower's postal address and contacts (BRIEF decisions 5 and 6): letters print the
address; messages to a guarantor, attorney ... go to the stored contact; a message's address
widened to hold a letter's addressee block (name and address lines)

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "recipient", sa.Column("address", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.add_column(
        "recipient",
        sa.Column(
            "contacts",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'[]'::jsonb"),
        ),
    )
    # Raising a varchar's limit is a catalogue change in PostgreSQL: no table rewrite.
    op.alter_column("message", "address", type_=sa.String(1000), existing_type=sa.String(254))


def downgrade() -> None:
    op.alter_column("message", "address", type_=sa.String(254), existing_type=sa.String(1000))
    op.drop_column("recipient", "contacts")
    op.drop_column("recipient", "address")
