"""the audit chain: append-only entries and their head

Revision ID: 0003a
Revises: 0003r
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision: str = "0003a"
down_revision: str | None = "0003r"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The application appends and reads; it never changes an entry. These triggers say so to every
# role, the owner's included; only someone who may disable triggers (the owner, a superuser)
# gets past them, and the hash chain and the exported heads are there for that case.
APPEND_ONLY = (
    """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
)
HEAD_MOVES_FORWARD = (
    """
CREATE FUNCTION audit_head_moves_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.sequence <= OLD.sequence OR NEW.id <> OLD.id THEN
        RAISE EXCEPTION 'audit_head only moves forward: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$""",
    """CREATE TRIGGER audit_head_moves_forward BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_moves_forward()""",
    """CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_head_moves_forward()""",
)


def _text_array(name: str) -> sa.Column[list[str]]:
    return sa.Column(name, ARRAY(sa.Text()), server_default="{}", nullable=False)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        _text_array("roles"),
        sa.Column("principal_kind", sa.String(20), nullable=True),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("route", sa.String(500), nullable=False),
        sa.Column("path", sa.String(2000), nullable=False),
        _text_array("resource_ids"),
        sa.Column("client", sa.String(100), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(200), nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("sequence"),
    )
    for column in ("recorded_at", "subject", "request_id"):
        op.create_index(op.f(f"ix_audit_log_{column}"), "audit_log", [column])
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO audit_head (id, sequence, hash) VALUES (1, 0, repeat('0', 64))")
    for statement in (*APPEND_ONLY, *HEAD_MOVES_FORWARD):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("audit_head")
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION audit_head_moves_forward()")
    op.execute("DROP FUNCTION audit_log_append_only()")
