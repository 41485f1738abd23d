"""templates and their versions

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 12:05:53.434642
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now(name: str) -> sa.Column[object]:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "template",
        sa.Column("template_id", sa.String(64), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        _now("created_at"),
        _now("updated_at"),
        sa.PrimaryKeyConstraint("template_id", name=op.f("pk_template")),
    )
    op.create_table(
        "template_version",
        sa.Column("template_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        _now("created_at"),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["template.template_id"],
            name=op.f("fk_template_version_template_id_template"),
        ),
        sa.PrimaryKeyConstraint("template_id", "version", name=op.f("pk_template_version")),
    )


def downgrade() -> None:
    op.drop_table("template_version")
    op.drop_table("template")
