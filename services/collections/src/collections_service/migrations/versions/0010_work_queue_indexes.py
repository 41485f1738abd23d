"""a collector's work queue from one index: open tasks by assignees (open cases by assignee);
open tasks of assigned cases that named nobody take their case's assignee

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE task SET assignees = ARRAY[c.assignee] FROM collection_case c"
        " WHERE task.case_id = c.case_id AND task.status = 'open'"
        " AND cardinality(task.assignees) = 0 AND c.assignee IS NOT NULL"
    )
    op.create_index(
        "ix_collection_case_open_assignee",
        "collection_case",
        ["assignee"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "ix_task_open_assignees",
        "task",
        ["assignees"],
        postgresql_using="gin",
        postgresql_where=sa.text("status = 'open'"),
        postgresql_with={"fastupdate": "off"},
    )


def downgrade() -> None:
    op.drop_index("ix_task_open_assignees", table_name="task")
    op.drop_index("ix_collection_case_open_assignee", table_name="collection_case")
