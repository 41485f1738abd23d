"""Object-level access of collections' routes: what the caller may see and act on.

Whatever a principal may not see answers as if it did not exist (404, the same problem an
unknown id gets), so that no route tells another collector's case from no case at all. The
conditions themselves are SQL (:mod:`collections_service.adapters.access_sql`): lists filter
with them in their WHERE clause; one object is checked with one ``SELECT``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import access_sql
from shared.principal import Principal
from shared.problems import NotFound, Problem

__all__ = [
    "assignable",
    "case_visible",
    "portfolio_wide",
    "reads_queue_of",
    "visible_borrower",
    "visible_case",
    "visible_dispute",
    "visible_loan",
    "visible_task",
]

case_visible = access_sql.case_visible
ASSIGN_SCOPE = "cases:assign"


async def visible_case(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> None:
    """404 unless the case exists and the principal sees it."""
    if not await access_sql.sees_case(session, principal, case_id):
        raise NotFound("case", str(case_id))


async def visible_task(session: AsyncSession, principal: Principal, task_id: uuid.UUID) -> None:
    if not await access_sql.sees_task(session, principal, task_id):
        raise NotFound("task", str(task_id))


async def visible_loan(session: AsyncSession, principal: Principal, loan_id: str) -> None:
    """404 unless the principal sees a case of the loan (wide roles: the use case checks that
    the loan exists)."""
    if not await access_sql.sees(session, access_sql.loan_visible(principal, sa.literal(loan_id))):
        raise NotFound("loan", loan_id)


async def visible_borrower(session: AsyncSession, principal: Principal, borrower_id: str) -> None:
    condition = access_sql.borrower_visible(principal, sa.literal(borrower_id))
    if not await access_sql.sees(session, condition):
        raise NotFound("borrower", borrower_id)


async def visible_dispute(
    session: AsyncSession, principal: Principal, dispute_id: uuid.UUID
) -> None:
    """404 unless the dispute exists and the principal sees a case of its loan."""
    if not await access_sql.sees_dispute(session, principal, dispute_id):
        raise NotFound("dispute", str(dispute_id))


async def visible_of_case(
    session: AsyncSession, principal: Principal, kind: str, object_id: uuid.UUID
) -> None:
    """404 unless the offer, placement or legal file exists and the principal sees its case."""
    if not await access_sql.sees_of_case(session, principal, kind, object_id):
        raise NotFound(kind, str(object_id))


def portfolio_wide(principal: Principal) -> None:
    """Reads over every case (strategy previews, simulations, results) need a wide role."""
    if not principal.sees_every_case:
        raise Problem(403, "Forbidden", "this read covers every case: it needs a portfolio role")


def reads_queue_of(principal: Principal, assignee: str) -> bool:
    """A collector reads their own work queue, a supervisor their team's too, wide roles all."""
    return principal.sees_every_case or assignee in access_sql.holders(principal)


def assignable(principal: Principal, assignees: Iterable[str], field: str) -> None:
    """Who the caller may give work to: anyone for wide roles, a supervisor their team and
    themselves; it needs ``cases:assign`` (the gateway checks it too)."""
    if not principal.allows(ASSIGN_SCOPE):
        raise Problem(403, "Forbidden", f"this call needs the scope {ASSIGN_SCOPE}")
    if principal.sees_every_case:
        return
    allowed = set(access_sql.holders(principal))
    outside = sorted(set(assignees) - allowed)
    if outside:
        message = f"not in your team: {', '.join(outside)}"
        raise Problem(422, "Invalid request", f"{field}: {message}",
                      errors=[{"field": field, "message": message}])  # fmt: skip
