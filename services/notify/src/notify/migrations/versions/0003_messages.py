"""messages, their statuses, suppressions, the local sink and receipts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 12:54:33.257852
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
        "message",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=True),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("borrower_id", sa.String(64), nullable=False),
        sa.Column("loan_id", sa.String(64), nullable=True),
        sa.Column("recipient", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("template_id", sa.String(100), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(16), nullable=True),
        sa.Column("pack", sa.String(20), nullable=False),
        sa.Column("variables", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("fallback", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("fallback_of", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("deferred_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider", sa.String(32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(254), nullable=True),
        sa.Column("subject", sa.String(), nullable=True),
        sa.Column("text", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["fallback_of"], ["message.message_id"], name=op.f("fk_message_fallback_of_message")
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_message")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_message_idempotency_key")),
        sa.UniqueConstraint("request_id", name=op.f("uq_message_request_id")),
    )
    op.create_index(op.f("ix_message_borrower_id"), "message", ["borrower_id"], unique=False)
    op.create_index("ix_message_created", "message", ["created_at", "message_id"], unique=False)
    op.create_index(
        "ix_message_due",
        "message",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('queued', 'deferred', 'sending')"),
    )
    op.create_index(op.f("ix_message_loan_id"), "message", ["loan_id"], unique=False)
    op.create_table(
        "sink_message",
        sa.Column("sink_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(), nullable=True),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sink_id", name=op.f("pk_sink_message")),
        sa.UniqueConstraint("message_id", name=op.f("uq_sink_message_message_id")),
    )
    op.create_index(op.f("ix_sink_message_channel"), "sink_message", ["channel"], unique=False)
    op.create_table(
        "suppression",
        sa.Column("suppression_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("suppression_id", name=op.f("pk_suppression")),
        sa.UniqueConstraint("channel", "address", name=op.f("uq_suppression_channel")),
    )
    op.create_table(
        "message_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("deferred_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message.message_id"],
            name=op.f("fk_message_status_message_id_message"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_status")),
    )
    op.create_index(
        op.f("ix_message_status_message_id"), "message_status", ["message_id"], unique=False
    )
    op.create_table(
        "receipt",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(20), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.message_id"], name=op.f("fk_receipt_message_id_message")
        ),
        sa.PrimaryKeyConstraint("message_id", "status", name=op.f("pk_receipt")),
    )
    op.add_column(
        "loan_recipient",
        sa.Column("pack", sa.String(length=20), server_default="cn", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("loan_recipient", "pack")
    op.drop_table("receipt")
    op.drop_index(op.f("ix_message_status_message_id"), table_name="message_status")
    op.drop_table("message_status")
    op.drop_table("suppression")
    op.drop_index(op.f("ix_sink_message_channel"), table_name="sink_message")
    op.drop_table("sink_message")
    op.drop_index(op.f("ix_message_loan_id"), table_name="message")
    op.drop_index(
        "ix_message_due",
        table_name="message",
        postgresql_where=sa.text("status IN ('queued', 'deferred', 'sending')"),
    )
    op.drop_index("ix_message_created", table_name="message")
    op.drop_index(op.f("ix_message_borrower_id"), table_name="message")
    op.drop_table("message")
