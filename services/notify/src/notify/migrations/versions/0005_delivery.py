"""letters' documents, hand-over times and providers' ids (rate limits), push tokens

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
    op.create_table(
        "letter_document",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message.message_id"],
            name=op.f("fk_letter_document_message_id_message"),
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_letter_document")),
    )
    op.add_column("message", sa.Column("handed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("message", sa.Column("provider_message_id", sa.String(200), nullable=True))
    op.create_index(
        "ix_message_channel_handed",
        "message",
        ["channel", "handed_at"],
        postgresql_where=sa.text("handed_at IS NOT NULL"),
    )
    op.create_index(
        "ix_message_borrower_handed",
        "message",
        ["borrower_id", "handed_at"],
        postgresql_where=sa.text("handed_at IS NOT NULL"),
    )
    op.create_index("ix_message_provider_message_id", "message", ["provider_message_id"])
    op.add_column("recipient", sa.Column("push_token", sa.String(4096), nullable=True))
    op.add_column(
        "recipient", sa.Column("contact_updated_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("recipient", "contact_updated_at")
    op.drop_column("recipient", "push_token")
    op.drop_index("ix_message_provider_message_id", table_name="message")
    op.drop_index("ix_message_borrower_handed", table_name="message")
    op.drop_index("ix_message_channel_handed", table_name="message")
    op.drop_column("message", "provider_message_id")
    op.drop_column("message", "handed_at")
    op.drop_table("letter_document")
