"""SQL of collectors' work: outcomes, numbers marked invalid, promises to pay."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import RowMapping
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.tables import (
    Base,
    CaseRow,
    InvalidNumberRow,
    OutcomeRow,
    PromiseRow,
    TaskRow,
)
from collections_service.domain.promises import Instalment

OUTCOME = Base.metadata.tables[OutcomeRow.__tablename__]
INVALID = Base.metadata.tables[InvalidNumberRow.__tablename__]
PROMISE = Base.metadata.tables[PromiseRow.__tablename__]
TASK = Base.metadata.tables[TaskRow.__tablename__]
CASE = Base.metadata.tables[CaseRow.__tablename__]


@dataclass(frozen=True, slots=True)
class PromiseRecord:
    promise_id: uuid.UUID
    case_id: uuid.UUID
    loan_id: str
    amount: Decimal
    due_on: date
    paid: Decimal
    status: str
    made_on: date
    created_at: datetime
    instalments: tuple[Instalment, ...] | None = None


def _promise(row: RowMapping) -> PromiseRecord:
    fields = {k: row[k] for k in PromiseRecord.__dataclass_fields__ if k != "instalments"}
    stored = row["instalments"]
    instalments = None
    if stored is not None:
        instalments = tuple(
            Instalment(Decimal(i["amount"]), date.fromisoformat(i["due_on"])) for i in stored
        )
    return PromiseRecord(**fields, instalments=instalments)


def instalments_json(instalments: list[Instalment] | None) -> list[dict[str, str]] | None:
    if instalments is None:
        return None
    return [{"amount": str(i.amount), "due_on": i.due_on.isoformat()} for i in instalments]


async def insert_outcome(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(OUTCOME).values(values))


async def outcomes_of(session: AsyncSession, case_id: uuid.UUID) -> list[RowMapping]:
    query = sa.select(OUTCOME).where(OUTCOME.c.case_id == case_id).order_by(OUTCOME.c.contacted_at)
    return list((await session.execute(query)).mappings())


async def mark_invalid(session: AsyncSession, borrower_id: str, number: str, at: datetime) -> None:
    stmt = insert(INVALID).values(borrower_id=borrower_id, number=number, marked_at=at)
    await session.execute(stmt.on_conflict_do_nothing())


async def insert_promise(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(PROMISE).values(values))


async def promises_of(session: AsyncSession, case_id: uuid.UUID) -> list[PromiseRecord]:
    query = sa.select(PROMISE).where(PROMISE.c.case_id == case_id).order_by(PROMISE.c.created_at)
    return [_promise(r) for r in (await session.execute(query)).mappings()]


async def pay_promises(
    session: AsyncSession, loan_id: str, amount: Decimal, on: date
) -> list[PromiseRecord]:
    """Count a payment towards the loan's pending promises made by ``on`` and due from ``on``,
    oldest first, each up to what it still lacks; a promise paid in full is kept at once."""
    query = (
        sa.select(PROMISE)
        .where(PROMISE.c.loan_id == loan_id, PROMISE.c.status == "pending",
               PROMISE.c.made_on <= on, PROMISE.c.due_on >= on)
        .order_by(PROMISE.c.due_on, PROMISE.c.created_at)
        .with_for_update()
    )  # fmt: skip
    changed, left = [], amount
    for row in (await session.execute(query)).mappings():
        if left <= 0:
            break
        taken = min(left, row["amount"] - row["paid"])
        left -= taken
        paid = row["paid"] + taken
        status = "kept" if paid >= row["amount"] else "pending"
        await session.execute(
            sa.update(PROMISE)
            .where(PROMISE.c.promise_id == row["promise_id"])
            .values(paid=paid, status=status)
        )
        changed.append(_promise({**row, "paid": paid, "status": status}))  # type: ignore[arg-type]
    return changed


async def judge_due(session: AsyncSession, business_date: date) -> list[PromiseRecord]:
    """Pending promises whose due date — or an instalment's, not covered by what was paid —
    closed before ``business_date``: partly kept when some was paid, else broken (one
    statement; :mod:`collections_service.domain.promises` says the same in Python)."""
    # A promise of one payment keeps no instalments (SQL NULL; JSON null in older rows):
    # elements of an empty array instead, so that it is judged by its due date alone.
    plan = sa.case(
        (sa.func.jsonb_typeof(PROMISE.c.instalments) == "array", PROMISE.c.instalments),
        else_=sa.cast(sa.literal("[]"), JSONB),
    )
    item = sa.func.jsonb_array_elements(plan).table_valued(sa.column("value", JSONB)).alias("i")
    owed_so_far = (
        sa.select(sa.func.coalesce(sa.func.sum(item.c.value["amount"].astext.cast(sa.Numeric)), 0))
        .where(item.c.value["due_on"].astext.cast(sa.Date) < business_date)
        .scalar_subquery()
    )
    missed = sa.or_(
        PROMISE.c.due_on < business_date,
        PROMISE.c.paid < owed_so_far,
    )
    status = sa.case((PROMISE.c.paid > 0, "partly_kept"), else_="broken")
    stmt = (
        sa.update(PROMISE)
        .where(PROMISE.c.status == "pending", missed)
        .values(status=status)
        .returning(*PROMISE.c)
    )
    return [_promise(r) for r in (await session.execute(stmt)).mappings()]


@dataclass(frozen=True, slots=True)
class TaskRecord:
    task_id: uuid.UUID
    case_id: uuid.UUID
    kind: str
    queue: str
    due_on: date
    assignees: list[str]
    status: str
    loan_id: str = ""
    dpd: int = 0
    bucket: str = ""
    borrower_id: str = ""  # these two: only in a work queue, which asks the guard about each
    pack: str = ""


async def insert_task(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(TASK).values(values))


async def tasks_of(session: AsyncSession, case_id: uuid.UUID) -> list[TaskRecord]:
    query = (
        sa.select(TASK, CASE.c.loan_id, CASE.c.dpd, CASE.c.bucket)
        .join(CASE, CASE.c.case_id == TASK.c.case_id)
        .where(TASK.c.case_id == case_id)
        .order_by(TASK.c.due_on, TASK.c.created_at)
    )
    return [_task(r) for r in (await session.execute(query)).mappings()]


def _task(row: RowMapping) -> TaskRecord:
    return TaskRecord(**{k: row[k] for k in TaskRecord.__dataclass_fields__ if k in row})


async def work_queue(
    session: AsyncSession, assignee: str, queue: str | None, limit: int
) -> list[TaskRecord]:
    """The assignee's open tasks on open cases, most urgent first: the earliest due, then the
    deepest in arrears. A task names its people (``assignees``): assigning a case gives it its
    open tasks, and a new task takes its case's assignee, so one index scan (GIN) finds them."""
    query = (
        sa.select(TASK, CASE.c.loan_id, CASE.c.dpd, CASE.c.bucket, CASE.c.borrower_id, CASE.c.pack)
        .join(CASE, CASE.c.case_id == TASK.c.case_id)
        .where(
            TASK.c.status == "open",
            TASK.c.assignees.contains(sa.cast([assignee], ARRAY(sa.Text))),
            CASE.c.status == "open",
        )
        .order_by(TASK.c.due_on, CASE.c.dpd.desc(), TASK.c.task_id)
        .limit(limit)
    )
    if queue is not None:
        query = query.where(TASK.c.queue == queue)
    return [_task(r) for r in (await session.execute(query)).mappings()]


async def assign(session: AsyncSession, case_id: uuid.UUID, assignee: str) -> None:
    """The case and its open tasks go to ``assignee``."""
    await session.execute(
        sa.update(CASE).where(CASE.c.case_id == case_id).values(assignee=assignee)
    )
    await session.execute(
        sa.update(TASK)
        .where(TASK.c.case_id == case_id, TASK.c.status == "open")
        .values(assignees=[assignee])
    )


async def task(session: AsyncSession, task_id: uuid.UUID) -> TaskRecord | None:
    query = (
        sa.select(TASK, CASE.c.loan_id, CASE.c.dpd, CASE.c.bucket)
        .join(CASE, CASE.c.case_id == TASK.c.case_id)
        .where(TASK.c.task_id == task_id)
    )
    row = (await session.execute(query)).mappings().one_or_none()
    return _task(row) if row else None


async def set_assignees(session: AsyncSession, task_id: uuid.UUID, assignees: list[str]) -> None:
    await session.execute(
        sa.update(TASK).where(TASK.c.task_id == task_id).values(assignees=assignees)
    )
