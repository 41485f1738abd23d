"""whose cases and tasks, from indexes: cases by assignee, tasks by assignees (GIN) — a
collector's work queue and what they may see (access_sql); open tasks of assigned cases that
named nobody take their case's assignee

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

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
    op.create_index(op.f("ix_collection_case_assignee"), "collection_case", ["assignee"])
    op.create_index(
        "ix_task_assignees",
        "task",
        ["assignees"],
        postgresql_using="gin",
        postgresql_with={"fastupdate": "off"},
    )


def downgrade() -> None:
    op.drop_index("ix_task_assignees", table_name="task")
    op.drop_index(op.f("ix_collection_case_assignee"), table_name="collection_case")
