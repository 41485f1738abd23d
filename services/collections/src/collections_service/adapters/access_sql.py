"""Which cases a principal may see, as SQL conditions (object-level access, BRIEF section 6).

A collector sees the cases assigned to them: the case's assignee, or an assignee of one of its
tasks. A supervisor sees their own and their team's (the principal's ``team``); cases nobody
holds yet are assigned by the portfolio roles (or automatically). Roles that read the whole
portfolio (``shared.principal.WIDE_ROLES``) see every case. Every list,
count and lookup adds one of these conditions to its WHERE clause, so what a principal may not
see is never read, counted or told apart from what does not exist.

For a new table with a ``case_id`` (or ``loan_id``/``borrower_id``) column::

    query.where(access_sql.case_id_visible(principal, OFFER.c.case_id))
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.offer_tables import OfferRow
from collections_service.adapters.tables import (
    AgencyPlacementRow,
    Base,
    CaseRow,
    DisputeRow,
    LegalFileRow,
    TaskRow,
)
from shared.principal import Principal

CASE = Base.metadata.tables[CaseRow.__tablename__]
TASK = Base.metadata.tables[TaskRow.__tablename__]
DISPUTE = Base.metadata.tables[DisputeRow.__tablename__]
#: Objects of a case, by their own id: (table, id column) — seen when their case is.
OF_A_CASE = {
    "offer": Base.metadata.tables[OfferRow.__tablename__].c.offer_id,
    "placement": Base.metadata.tables[AgencyPlacementRow.__tablename__].c.placement_id,
    "legal file": Base.metadata.tables[LegalFileRow.__tablename__].c.legal_file_id,
}

Condition = sa.ColumnElement[bool]


def holders(principal: Principal) -> list[str]:
    """Whose cases the principal sees (when not every case): theirs, and a supervisor's team."""
    team = sorted(principal.team) if principal.has_role("supervisor") else []
    return [principal.subject, *team]


def held(principal: Principal) -> sa.CompoundSelect[tuple[uuid.UUID]]:
    """The ids of the cases held by the principal's names, each part by its index (migration
    0010): as the case's assignee, and as an assignee of one of its tasks."""
    names = holders(principal)
    case, task = CASE.alias("held_case"), TASK.alias("held_task")
    by_task = task.c.assignees.overlap(sa.literal(names, ARRAY(sa.Text)))
    return sa.union_all(
        sa.select(case.c.case_id).where(case.c.assignee.in_(names)),
        sa.select(task.c.case_id).where(by_task),
    )


def case_visible(principal: Principal, case: sa.FromClause = CASE) -> Condition:
    """A condition on the row ``case`` (``collection_case`` or an alias of it)."""
    return case_id_visible(principal, case.c.case_id)


def case_id_visible(principal: Principal, case_id: sa.ColumnElement[object]) -> Condition:
    """``case_id`` (a column of another table) names a case the principal sees."""
    if principal.sees_every_case:
        return sa.true()
    return case_id.in_(held(principal))


def loan_visible(principal: Principal, loan_id: sa.ColumnElement[object]) -> Condition:
    """The loan has a case, open or closed, the principal sees (every loan, for wide roles)."""
    if principal.sees_every_case:
        return sa.true()
    cases = CASE.alias("case_of_loan")
    return sa.exists().where(cases.c.loan_id == loan_id, case_visible(principal, cases))


def borrower_visible(principal: Principal, borrower_id: sa.ColumnElement[object]) -> Condition:
    """The borrower has a case the principal sees (every borrower, for wide roles)."""
    if principal.sees_every_case:
        return sa.true()
    cases = CASE.alias("case_of_borrower")
    return sa.exists().where(cases.c.borrower_id == borrower_id, case_visible(principal, cases))


async def sees(session: AsyncSession, condition: Condition) -> bool:
    """Whether the condition holds (one ``SELECT``, e.g. of :func:`loan_visible`)."""
    return bool(await session.scalar(sa.select(condition)))


async def sees_case(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> bool:
    query = sa.select(CASE.c.case_id).where(CASE.c.case_id == case_id, case_visible(principal))
    return await session.scalar(query) is not None


async def sees_task(session: AsyncSession, principal: Principal, task_id: uuid.UUID) -> bool:
    query = sa.select(TASK.c.task_id).where(
        TASK.c.task_id == task_id, case_id_visible(principal, TASK.c.case_id)
    )
    return await session.scalar(query) is not None


async def sees_dispute(session: AsyncSession, principal: Principal, dispute_id: uuid.UUID) -> bool:
    query = sa.select(DISPUTE.c.dispute_id).where(
        DISPUTE.c.dispute_id == dispute_id, loan_visible(principal, DISPUTE.c.loan_id)
    )
    return await session.scalar(query) is not None


async def sees_of_case(
    session: AsyncSession, principal: Principal, kind: str, object_id: uuid.UUID
) -> bool:
    """Whether an object of a case (``OF_A_CASE``: an offer, a placement, a legal file) exists
    and the principal sees its case."""
    key = OF_A_CASE[kind]
    query = sa.select(key).where(key == object_id, case_id_visible(principal, key.table.c.case_id))
    return await session.scalar(query) is not None
