"""Routes of collection cases: the list (filters, cursor pages) and one case with its timeline."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from collections_service.domain.promises import Instalment
from collections_service.entrypoints.api.deps import ContextDep, VisibleCaseId, VisibleTaskId
from collections_service.entrypoints.api.offers import offer_out
from collections_service.service_layer import access, case_queries, legal, offers, treatment, work
from shared.app import SessionDep
from shared.pagination import decode_time_cursor, encode_time_cursor
from shared.params import CalendarDate, Cursor, Instant, PageLimit, Text
from shared.principal import PrincipalDep
from shared.problems import NotFound, Problem
from shared.types import ExternalId, Money, PositiveMoney

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])


class StrategyRef(BaseModel):
    strategy_id: str
    version: int
    segment: str | None
    variant: str | None


class TimelineLine(BaseModel):
    at: datetime
    business_date: date
    kind: str
    detail: dict[str, Any]


class CasePublic(BaseModel):
    case_id: uuid.UUID
    loan_id: str
    borrower_id: str
    status: Literal["open", "closed"]
    opened_on: date
    closed_on: date | None
    close_reason: Literal["cured", "paid_off", "settled", "written_off", "legal"] | None
    dpd: int
    bucket: str
    overdue_amount: Money
    tier: str | None
    quadrant: str | None
    quadrant_inputs: dict[str, Any]  # the signals that decided the quadrant (docs/collections.md)
    pack: str
    product: str
    strategy: StrategyRef | None
    assignee: str | None


class InstalmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: PositiveMoney
    due_on: CalendarDate


class PromiseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: PositiveMoney = Field(description="the whole promise (the instalments' sum)")
    due_on: CalendarDate = Field(description="its last date (the last instalment's)")
    instalments: list[InstalmentIn] | None = Field(
        default=None,
        min_length=1,
        max_length=60,
        description="in order, one a day at most; each judged at the close of its due date",
    )


class InstalmentOut(BaseModel):
    amount: Money
    due_on: date


class PromiseOut(BaseModel):
    promise_id: uuid.UUID
    case_id: uuid.UUID
    amount: Money
    due_on: date
    paid: Money
    status: Literal["pending", "kept", "partly_kept", "broken", "cancelled"]
    instalments: list[InstalmentOut] | None


class TaskOut(BaseModel):
    task_id: uuid.UUID
    case_id: uuid.UUID
    kind: str
    queue: str
    due_on: date
    assignees: list[str]
    status: str
    loan_id: str
    dpd: int
    bucket: str


class LegalFileRef(BaseModel):
    legal_file_id: uuid.UUID
    status: str
    judgment_outcome: str | None


class LegalStandingOut(BaseModel):
    file: LegalFileRef | None = Field(description="the case's legal file, once transferred")
    dishonest_debtor: bool = Field(
        description="a court named the borrower a dishonest judgment debtor (失信被执行人) "
        "on this or another of their legal files"
    )


class CaseDetail(CasePublic):
    legal: LegalStandingOut
    timeline: list[TimelineLine]
    promises: list[PromiseOut]
    offers: list[dict[str, Any]]  # as GET /api/v1/cases/{case_id}/offers shows them
    tasks: list[TaskOut]


class CasePage(BaseModel):
    items: list[CasePublic]
    next_cursor: str | None


SHOWN_OTHERWISE = frozenset({"strategy", "quadrant_inputs"})


def _public(case: case_queries.CaseRecord) -> dict[str, Any]:
    fields = {k: getattr(case, k) for k in CasePublic.model_fields if k not in SHOWN_OTHERWISE}
    fields["quadrant_inputs"] = dict(case.quadrant_signals)
    strategy = None
    if case.strategy_id is not None and case.strategy_version is not None:
        strategy = StrategyRef(
            strategy_id=case.strategy_id,
            version=case.strategy_version,
            segment=case.segment,
            variant=case.variant,
        )
    return {**fields, "strategy": strategy}


@router.get("", response_model=CasePage)
async def list_cases(
    session: SessionDep,
    principal: PrincipalDep,
    case_status: Annotated[Literal["open", "closed"] | None, Query(alias="status")] = None,
    loan_id: ExternalId | None = None,
    borrower_id: ExternalId | None = None,
    assignee: Text | None = None,
    bucket: Text | None = None,
    cursor: Cursor | None = None,
    limit: PageLimit = 50,
) -> CasePage:
    """The cases the caller may see, newest first, filtered, one page at a time (pass
    ``next_cursor`` back)."""
    where = case_queries.CaseFilter(case_status, loan_id, borrower_id, assignee, bucket)
    rows = await case_queries.list_cases(
        session, where, principal, after=decode_time_cursor(cursor), limit=limit + 1
    )
    page = rows[:limit]
    more = len(rows) > limit
    next_cursor = encode_time_cursor(page[-1][1], str(page[-1][0].case_id)) if more else None
    return CasePage(
        items=[CasePublic.model_validate(_public(c)) for c, _ in page], next_cursor=next_cursor
    )


@router.get("/{case_id}", response_model=CaseDetail)
async def get_case(case_id: VisibleCaseId, session: SessionDep) -> CaseDetail:
    """One case with the timeline of everything that happened to it."""
    found = await case_queries.case_with_timeline(session, case_id)
    if found is None:
        raise NotFound("case", str(case_id))
    case, lines = found
    timeline = [
        TimelineLine(at=t.at, business_date=t.business_date, kind=t.kind, detail=dict(t.detail))
        for t in lines
    ]
    promises = [
        PromiseOut.model_validate(p, from_attributes=True)
        for p in await work.promises_of(session, case_id)
    ]
    standing = await legal.standing_of(session, case)
    file = standing.file
    return CaseDetail.model_validate(
        {
            **_public(case),
            "legal": {
                "file": None
                if file is None
                else LegalFileRef(
                    legal_file_id=file.legal_file_id,
                    status=file.status,
                    judgment_outcome=file.judgment_outcome,
                ),
                "dishonest_debtor": standing.dishonest_debtor,
            },
            "timeline": timeline,
            "promises": promises,
            "offers": [
                offer_out(o).model_dump(mode="json")
                for o in await offers.offers_of(session, case_id)
            ],
            "tasks": [
                TaskOut.model_validate(t, from_attributes=True)
                for t in await work.tasks_of(session, case_id)
            ],
        }
    )


class ContactAttemptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["agent_call", "field_visit"]
    recipient: Literal[
        "borrower", "guarantor", "co_signer", "spouse", "attorney", "contact_person"
    ] = "borrower"
    # the number; by default the borrower's, or the stored contact's of that recipient kind
    to: str | None = Field(default=None, max_length=100)


class ContactDecisionOut(BaseModel):
    decision_id: uuid.UUID
    case_id: uuid.UUID
    channel: str
    recipient: str
    outcome: Literal["allowed", "deferred", "refused"]
    rule: str | None
    reason: str
    pack: str
    pack_version: int
    deferred_until: datetime | None


@router.post("/{case_id}/contact-attempts", status_code=201, response_model=ContactDecisionOut)
async def contact_attempt(
    case_id: VisibleCaseId, body: ContactAttemptIn, session: SessionDep, ctx: ContextDep
) -> ContactDecisionOut:
    """Ask before a call or a visit: the guard's decision, recorded in the decisions log."""
    recorded = await treatment.contact_attempt(
        session, case_id, body.channel, body.recipient, body.to, ctx
    )
    d = recorded.decision
    return ContactDecisionOut(
        decision_id=recorded.decision_id,
        case_id=case_id,
        channel=body.channel,
        recipient=body.recipient,
        outcome=d.outcome.value,
        rule=d.rule.value if d.rule else None,
        reason=d.reason,
        pack=recorded.pack,
        pack_version=recorded.pack_version,
        deferred_until=d.until,
    )


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["agent_call", "field_visit", "voice", "sms", "email"]
    outcome: Literal[
        "right_party_contact", "third_party_contact", "no_answer", "wrong_number", "promise",
        "refusal", "dispute", "callback_requested",
    ]  # fmt: skip
    contacted_at: Instant
    direction: Literal["outbound", "inbound"] = "outbound"
    decision_id: uuid.UUID | None = None  # the contact attempt's decision, when asked first
    to: str | None = Field(default=None, max_length=100)
    duration_s: int | None = Field(default=None, ge=0, le=86_400)
    note: str | None = Field(default=None, max_length=2000)


class OutcomeOut(BaseModel):
    outcome_id: uuid.UUID
    case_id: uuid.UUID
    decision_id: uuid.UUID | None
    channel: str
    direction: str
    outcome: str
    to: str | None
    contacted_at: datetime
    duration_s: int | None
    note: str | None
    breach: str | None  # the rule the guard would have refused it by, when not asked first
    recorded_by: str | None


@router.post("/{case_id}/outcomes", status_code=201, response_model=OutcomeOut)
async def record_outcome(
    case_id: VisibleCaseId,
    body: OutcomeIn,
    session: SessionDep,
    ctx: ContextDep,
    principal: PrincipalDep,
) -> OutcomeOut:
    """What came of a contact: counted in the ledger; a breach of the pack is recorded."""
    report = work.Reported(**body.model_dump())
    stored = await work.record_outcome(session, case_id, report, principal.subject, ctx)
    return OutcomeOut.model_validate(stored)


@router.post("/{case_id}/promises", status_code=201, response_model=PromiseOut)
async def make_promise(
    case_id: VisibleCaseId, body: PromiseIn, session: SessionDep, ctx: ContextDep
) -> PromiseOut:
    """A promise to pay: reminders hold while it is pending; judged at the close of its date."""
    instalments = None
    if body.instalments is not None:
        instalments = [Instalment(i.amount, i.due_on) for i in body.instalments]
    made = await work.make_promise(session, case_id, body.amount, body.due_on, ctx, instalments)
    return PromiseOut.model_validate(made, from_attributes=True)


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignee: str = Field(min_length=1, max_length=200)


@router.post("/{case_id}/assign", response_model=CasePublic)
async def assign_case(
    case_id: VisibleCaseId,
    body: AssignIn,
    session: SessionDep,
    ctx: ContextDep,
    principal: PrincipalDep,
) -> CasePublic:
    """Give the case and its open tasks to a collector (supervisors and admins: cases:assign;
    a supervisor to their team or themselves)."""
    access.assignable(principal, [body.assignee], "assignee")
    case = await work.assign_case(session, case_id, body.assignee, ctx)
    return CasePublic.model_validate(_public(case))


queue_router = APIRouter(prefix="/api/v1/work-queue", tags=["cases"])


class CapUseOut(BaseModel):
    name: str
    used: int
    limit: int
    window: str


class GuardNow(BaseModel):
    """What the guard allows of the task's contact now (a call or visit to the borrower)."""

    outcome: str
    rule: str | None
    reason: str
    allowed_until: datetime | None
    deferred_until: datetime | None
    caps: list[CapUseOut]
    summary: str


class QueuedTaskOut(TaskOut):
    guard: GuardNow | None


class WorkQueue(BaseModel):
    items: list[QueuedTaskOut]


def _queued(queued: work.Queued) -> QueuedTaskOut:
    g = queued.guard
    guard = None
    if g is not None:
        guard = GuardNow(
            outcome=g.decision.outcome.value,
            rule=g.decision.rule.value if g.decision.rule else None,
            reason=g.decision.reason,
            allowed_until=g.allowed_until,
            deferred_until=g.decision.until,
            caps=[CapUseOut(name=c.name, used=c.used, limit=c.limit, window=c.window)
                  for c in g.caps],
            summary=g.summary,
        )  # fmt: skip
    task = TaskOut.model_validate(queued.task, from_attributes=True)
    return QueuedTaskOut(**task.model_dump(), guard=guard)


@queue_router.get("", response_model=WorkQueue)
async def work_queue(
    session: SessionDep,
    ctx: ContextDep,
    principal: PrincipalDep,
    queue: Text | None = None,
    assignee: Text | None = None,
    limit: PageLimit = 50,
) -> WorkQueue:
    """The caller's open tasks (or ``assignee``'s: a supervisor's team member, anyone's for
    portfolio roles), most urgent first: earliest due, then the deepest in arrears. Each call
    or visit says what the guard allows now (``guard``: e.g. "allowed until 22:00
    Asia/Shanghai; daily_connected_calls: 1 of 3 today")."""
    whose = assignee or principal.subject
    if not access.reads_queue_of(principal, whose):
        raise Problem(403, "Forbidden", "you may read your own work queue (and your team's)")
    tasks = await work.work_queue(session, whose, queue, limit, ctx)
    return WorkQueue(items=[_queued(t) for t in tasks])


task_router = APIRouter(prefix="/api/v1/tasks", tags=["cases"])


class TaskAssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignees: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=10
    )


@task_router.post("/{task_id}/assign", response_model=TaskOut)
async def assign_task(
    task_id: VisibleTaskId,
    body: TaskAssignIn,
    session: SessionDep,
    ctx: ContextDep,
    principal: PrincipalDep,
) -> TaskOut:
    """Give a task to collectors (a field visit in pack cn needs two)."""
    access.assignable(principal, body.assignees, "assignees")
    assigned = await work.assign_task(session, task_id, body.assignees, ctx)
    return TaskOut.model_validate(assigned, from_attributes=True)
