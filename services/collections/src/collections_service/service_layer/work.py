"""Collectors' work on a case: outcomes of contacts and promises to pay.

An outcome updates the contact ledger (the one counter of contacts): a decided call is
confirmed as connected or unanswered; an outbound call reported without a decision is counted
all the same and, when the guard would have refused it, stored with ``breach`` and announced
(``collections.compliance.breach``); an inbound contact counts as a conversation. A wrong number
is marked invalid; a dispute opens one. A promise to pay suppresses reminders while pending
and is judged at the close of its due date from the payments booked since it was made.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import cases_sql, contacts_sql, work_sql
from collections_service.adapters.cases_sql import CaseRecord, TimelineEntry
from collections_service.adapters.work_sql import PromiseRecord, TaskRecord
from collections_service.domain.promises import Instalment, check_instalments, missed
from collections_service.service_layer import contacts, effects, protections
from collections_service.service_layer.clock import Context
from shared.compliance.standing import Standing
from shared.compliance.vocabulary import AttemptStatus
from shared.events import ComplianceBreach, PromiseBroken
from shared.problems import NotFound, Problem

CONNECTED = frozenset({"right_party_contact", "third_party_contact", "promise", "refusal",
                       "dispute", "callback_requested"})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Reported:
    channel: str
    outcome: str
    contacted_at: datetime
    direction: str = "outbound"
    decision_id: uuid.UUID | None = None
    to: str | None = None
    duration_s: int | None = None
    note: str | None = None


def _status(outcome: str) -> AttemptStatus:
    """What an outcome means for the ledger: a conversation, a call unanswered, or no contact."""
    if outcome in CONNECTED:
        return AttemptStatus.CONNECTED
    return AttemptStatus.UNANSWERED if outcome == "no_answer" else AttemptStatus.FAILED


def _invalid(field: str, message: str) -> Problem:
    return Problem(
        422, "Invalid request", f"{field}: {message}", errors=[{"field": field, "message": message}]
    )


async def _open_case(session: AsyncSession, case_id: uuid.UUID) -> CaseRecord:
    case = await cases_sql.get_case(session, case_id)
    if case is None:
        raise NotFound("case", str(case_id))
    return case


async def record_outcome(
    session: AsyncSession, case_id: uuid.UUID, report: Reported, actor: str | None, ctx: Context
) -> dict[str, object]:
    case = await _open_case(session, case_id)
    ref = await cases_sql.loan_ref(session, case.loan_id)
    assert ref is not None  # a case's loan is known
    number = report.to or str(ref["phone"])
    status = _status(report.outcome)
    outcome_id, breach = uuid.uuid4(), None
    on = await cases_sql.business_date_of_case(session, case_id)
    planned = contacts.Planned(
        loan_id=case.loan_id, borrower_id=case.borrower_id, channel=report.channel,
        time_zone=str(ref["time_zone"]), pack=case.pack, business_date=on, case_id=case_id,
        to=number, request_key=f"outcome|{outcome_id}",
    )  # fmt: skip
    if report.decision_id is not None:
        await _confirm(session, case_id, report.decision_id, status)
    elif report.direction == "inbound":
        await contacts.count_contact(session, planned, report.contacted_at, AttemptStatus.CONNECTED,
                                     direction="inbound")  # fmt: skip
    else:
        would = await contacts.would_allow(session, planned, report.contacted_at)
        breach = None if would.allowed else (would.rule.value if would.rule else "refused")
        await contacts.count_contact(session, planned, report.contacted_at, status)
    await _consequences(session, case, report, number, ctx)
    values: dict[str, object] = {
        "outcome_id": outcome_id, "case_id": case_id, "decision_id": report.decision_id,
        "channel": report.channel, "direction": report.direction, "outcome": report.outcome,
        "to": number, "contacted_at": report.contacted_at, "duration_s": report.duration_s,
        "note": report.note, "breach": breach, "recorded_by": actor,
    }  # fmt: skip
    await work_sql.insert_outcome(session, values)
    detail = {"outcome_id": str(outcome_id), "outcome": report.outcome, "channel": report.channel,
              "direction": report.direction, "breach": breach}  # fmt: skip
    await effects.timeline(session, case_id, [TimelineEntry(ctx.now(), on, "outcome", detail)])
    if breach is not None:
        event = ComplianceBreach(
            case_id=case_id,
            loan_id=case.loan_id,
            outcome_id=outcome_id,
            rule=breach,
            channel=report.channel,
            contacted_at=report.contacted_at,
        )
        await effects.announce(session, event, subject=case.loan_id, at=ctx.now())
    return values


async def _confirm(
    session: AsyncSession, case_id: uuid.UUID, decision_id: uuid.UUID, status: AttemptStatus
) -> None:
    """The outcome of a decided contact confirms its ledger slot."""
    request_id = await contacts_sql.request_of(session, decision_id, case_id)
    if request_id is None:
        raise _invalid("decision_id", "no contact of this case was allowed by that decision")
    await contacts_sql.set_attempt_status(session, request_id, status.value)


async def _consequences(
    session: AsyncSession, case: CaseRecord, report: Reported, number: str, ctx: Context
) -> None:
    if report.outcome == "wrong_number":
        await work_sql.mark_invalid(session, case.borrower_id, number, ctx.now())
    elif report.outcome == "dispute":
        await protections.open_dispute(
            session, case.loan_id, report.note or "raised on a call", ctx.now()
        )


async def make_promise(
    session: AsyncSession, case_id: uuid.UUID, amount: Decimal, due_on: date, ctx: Context,
    instalments: list[Instalment] | None = None,
) -> PromiseRecord:  # fmt: skip
    """A promise of ``amount`` by ``due_on``, or in ``instalments`` (their sum and last date)."""
    if errors := check_instalments(instalments or [], amount, due_on):
        raise Problem(422, "Invalid request", "; ".join(f"{f}: {m}" for f, m in errors),
                      errors=[{"field": f, "message": m} for f, m in errors])  # fmt: skip
    case = await _open_case(session, case_id)
    if case.status != "open":
        raise Problem(409, "Case closed", f"case {case_id} is closed: no promise can be made on it")
    today = await cases_sql.business_date_of_case(session, case_id)
    first_due = instalments[0].due_on if instalments else due_on
    if first_due < today:
        field = "instalments[0].due_on" if instalments else "due_on"
        raise _invalid(field, f"before the business date {today.isoformat()}")
    promise_id = uuid.uuid4()
    await work_sql.insert_promise(session, {
        "promise_id": promise_id, "case_id": case_id, "loan_id": case.loan_id, "amount": amount,
        "due_on": due_on, "paid": Decimal("0.00"), "status": "pending", "made_on": today,
        "created_at": ctx.now(), "instalments": work_sql.instalments_json(instalments),
    })  # fmt: skip
    detail: dict[str, object] = {
        "promise_id": str(promise_id),
        "amount": str(amount),
        "due_on": due_on.isoformat(),
    }
    if instalments:
        detail["instalments"] = work_sql.instalments_json(instalments)
    await effects.timeline(
        session, case_id, [TimelineEntry(ctx.now(), today, "promise_made", detail)]
    )
    [made] = [p for p in await work_sql.promises_of(session, case_id) if p.promise_id == promise_id]
    return made


async def apply_payment(
    session: AsyncSession, loan_id: str, amount: Decimal, on: date, now: datetime
) -> None:
    """A payment counts towards the loan's pending promises; one paid in full is kept."""
    for promise in await work_sql.pay_promises(session, loan_id, amount, on):
        if promise.status == "kept":
            await _judged(session, promise, on, now)


async def judge_promises(session: AsyncSession, business_date: date, now: datetime) -> None:
    """At the close of their due date: partly kept or broken (``collections.promise.broken``)."""
    for promise in await work_sql.judge_due(session, business_date):
        missed_on = promise.due_on
        if promise.instalments:
            missed_on = missed(promise.instalments, promise.paid, business_date) or missed_on
        await _judged(session, promise, business_date, now, missed_on=missed_on)
        if promise.status == "broken":
            broken = PromiseBroken(
                promise_id=promise.promise_id,
                loan_id=promise.loan_id,
                promised_amount=promise.amount,
                promised_on=missed_on,
            )
            await effects.announce(session, broken, subject=promise.loan_id, at=now)


async def _judged(
    session: AsyncSession, promise: PromiseRecord, on: date, now: datetime,
    missed_on: date | None = None,
) -> None:  # fmt: skip
    detail: dict[str, object] = {
        "promise_id": str(promise.promise_id),
        "status": promise.status,
        "paid": str(promise.paid),
    }
    if promise.instalments and missed_on is not None:
        detail["missed_instalment_due_on"] = missed_on.isoformat()
    await effects.timeline(
        session, promise.case_id, [TimelineEntry(now, on, "promise_" + promise.status, detail)]
    )


async def promises_of(session: AsyncSession, case_id: uuid.UUID) -> list[PromiseRecord]:
    return await work_sql.promises_of(session, case_id)


async def assign_case(
    session: AsyncSession, case_id: uuid.UUID, assignee: str, ctx: Context
) -> CaseRecord:
    """A supervisor gives the case (and its open tasks) to a collector."""
    case = await _open_case(session, case_id)
    await work_sql.assign(session, case_id, assignee)
    on = await cases_sql.business_date_of_case(session, case_id)
    detail = {"from": case.assignee, "to": assignee}
    await effects.timeline(session, case_id, [TimelineEntry(ctx.now(), on, "assigned", detail)])
    return await _open_case(session, case_id)


@dataclass(frozen=True, slots=True)
class Queued:
    """A task of a work queue and, for a call or visit, what the guard allows of it now."""

    task: TaskRecord
    guard: Standing | None


async def work_queue(
    session: AsyncSession, assignee: str, queue: str | None, limit: int, ctx: Context
) -> list[Queued]:
    """The assignee's open tasks, most urgent first, each call and visit with the guard's
    answer now — the ledgers of the whole page read in one query."""
    tasks = await work_sql.work_queue(session, assignee, queue, limit)
    calls = [t for t in tasks if t.kind in _CALLING]
    refs = await cases_sql.loan_refs(session, [t.loan_id for t in calls])
    now, found = ctx.now(), {}
    debts = [(t.borrower_id, t.loan_id) for t in calls]
    async with contacts.deciding_together(session, debts, now):
        for t in calls:
            ref = refs.get(t.loan_id)
            if ref is None:
                continue
            planned = contacts.Planned(
                loan_id=t.loan_id, borrower_id=t.borrower_id, channel=t.kind,
                time_zone=str(ref["time_zone"]), pack=t.pack, business_date=t.due_on,
                case_id=t.case_id, to=str(ref["phone"]) if ref["phone"] else None,
                request_key=f"work-queue|{t.task_id}",
            )  # fmt: skip
            found[t.task_id] = await contacts.standing_of(session, planned, now)
    return [Queued(t, found.get(t.task_id)) for t in tasks]


#: Tasks that are contacts the guard decides when they happen (BRIEF decision 3).
_CALLING = frozenset({"agent_call", "field_visit"})


async def tasks_of(session: AsyncSession, case_id: uuid.UUID) -> list[TaskRecord]:
    return await work_sql.tasks_of(session, case_id)


async def assign_task(
    session: AsyncSession, task_id: uuid.UUID, assignees: list[str], ctx: Context
) -> TaskRecord:
    """Give a task to collectors; a field visit needs as many as the case's pack says (``cn``:
    two), so a visit is never made alone."""
    found = await work_sql.task(session, task_id)
    if found is None:
        raise NotFound("task", str(task_id))
    case = await _open_case(session, found.case_id)
    pack, _ = await contacts.active_pack(session, case.pack)
    needed = pack.field_visit_collectors if found.kind == "field_visit" else 1
    distinct = sorted(set(assignees))
    if len(distinct) < needed:
        message = f"a {found.kind} under pack {case.pack} needs {needed} different collectors"
        raise _invalid("assignees", message)
    await work_sql.set_assignees(session, task_id, distinct)
    on = await cases_sql.business_date_of_case(session, case.case_id)
    detail = {"task_id": str(task_id), "assignees": distinct}
    await effects.timeline(
        session, case.case_id, [TimelineEntry(ctx.now(), on, "task_assigned", detail)]
    )
    assigned = await work_sql.task(session, task_id)
    assert assigned is not None
    return assigned
