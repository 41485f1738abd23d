"""indexes behind object-level access: cases by assignee, tasks by assignees (GIN)

A collector's or supervisor's lists start from the cases they hold (access_sql.case_visible):
these two indexes find them without reading every case.

Revision ID: 0008_access
Revises: 0007
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_access"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_collection_case_assignee"), "collection_case", ["assignee"])
    op.create_index("ix_task_assignees", "task", ["assignees"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_task_assignees", table_name="task")
    op.drop_index(op.f("ix_collection_case_assignee"), table_name="collection_case")
