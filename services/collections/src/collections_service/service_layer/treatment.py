"""The strategy engine: which segment and variant a case is in, and the steps due each day.

A case follows its product's active strategy version from when it opens (open cases keep the
version they started with). Its segment is chosen again on every bucket change; ``day`` counts
business days since it entered the current segment (BRIEF decision 4). Day 0 runs at once; day
N when the end of day before business day N completes. Message steps are decided by the guard
(:mod:`.contacts`); tasks, legal review and offers are written on the timeline for collectors.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import cases_sql, documents_sql, work_sql
from collections_service.adapters.cases_sql import CaseRecord, SegmentGroup, TimelineEntry
from collections_service.domain.strategy import (
    MESSAGES,
    TASKS,
    LoanSnapshot,
    Step,
    Strategy,
    Variant,
    assign_variant,
)
from collections_service.domain.strategy_document import parse_strategy
from collections_service.service_layer import contacts, effects
from collections_service.service_layer.batch_cache import once, parsed
from collections_service.service_layer.clock import Context
from collections_service.service_layer.loans import number_to_call
from shared.problems import NotFound


async def load_strategy(session: AsyncSession, strategy_id: str, version: int) -> Strategy | None:
    async def load() -> Strategy | None:
        document = await documents_sql.strategy_version(session, strategy_id, version)
        if document is None:
            return None
        return parsed(parse_strategy, document)

    return await once(session, ("strategy", strategy_id, version), load)


@dataclass(frozen=True, slots=True)
class Choice:
    """What the engine chose for a case now: the segment entered (None: the same as before or
    none matches) and the timeline lines to write."""

    entered: dict[str, object] | None
    variant: Variant | None
    lines: list[TimelineEntry]


async def choose(
    session: AsyncSession, case: CaseRecord, ref: RowMapping, on: date, ctx: Context
) -> Choice:
    """The segment and variant the case is in now; new cases take the product's active version."""
    strategy_id, version = case.strategy_id, case.strategy_version
    if strategy_id is None or version is None:
        active = await once(
            session,
            ("active strategy", case.product),
            lambda: documents_sql.active_strategy_for(session, case.product),
        )
        if active is None:
            return Choice(None, None, [])  # no strategy for this product: worked by hand
        strategy_id, version = active.key, active.version
    strategy = await load_strategy(session, strategy_id, version)
    if strategy is None:
        return Choice(None, None, [])
    snapshot = LoanSnapshot(
        case.bucket, case.dpd, Decimal(ref["outstanding"]), case.tier, case.quadrant
    )
    segment = strategy.segment_for(snapshot)
    now, lines = ctx.now(), []
    escalation = strategy.escalation_for(case.bucket)
    if escalation is not None:
        escalated: dict[str, object] = {"bucket": case.bucket, "action": escalation.action.value}
        lines.append(TimelineEntry(now, on, "escalated", escalated))
    if segment is None or segment.name == case.segment:
        return Choice(None, None, lines)
    variant = assign_variant(
        segment, strategy_id=strategy_id, version=version, case_id=str(case.case_id)
    )
    entered: dict[str, object] = {
        "strategy_id": strategy_id, "strategy_version": version, "segment": segment.name,
        "variant": variant.name, "segment_entered_on": on,
    }  # fmt: skip
    detail = {
        "strategy_id": strategy_id,
        "version": version,
        "segment": segment.name,
        "variant": variant.name,
    }
    lines.append(TimelineEntry(now, on, "segment_entered", detail))
    return Choice(entered, variant, lines)


async def enter(
    session: AsyncSession, case: CaseRecord, choice: Choice, ref: RowMapping, on: date, ctx: Context
) -> None:
    """Write what ``choose`` decided (``case`` already carries it) and run the day-0 steps."""
    if choice.lines:
        await effects.timeline(session, case.case_id, choice.lines)
    for step in (s for s in choice.variant.path if s.day == 0) if choice.variant else ():
        await run_step(session, case, step, on, ctx, ref)


async def follow_segment(
    session: AsyncSession, case: CaseRecord, ref: RowMapping, on: date, ctx: Context
) -> None:
    """Choose the stored case's segment again (a bucket change); entering a new one assigns its
    variant and runs its day-0 steps."""
    choice = await choose(session, case, ref, on, ctx)
    if choice.entered is not None:
        await cases_sql.update_case(session, case.case_id, **choice.entered)
        case = replace(case, **choice.entered)  # type: ignore[arg-type]
    await enter(session, case, choice, ref, on, ctx)


async def run_due_steps(session: AsyncSession, business_date: date, ctx: Context) -> int:
    """The steps of day 1 and later that begin on ``business_date``, for every open case:
    one query per (strategy version, segment, variant, day) — a handful — not per case."""
    ran = 0
    for group in await cases_sql.segment_groups(session):
        strategy = await load_strategy(session, group.strategy_id, group.strategy_version)
        if strategy is None:
            continue
        for step in _later_steps(strategy, group):
            entered_on = business_date - timedelta(days=step.day)
            for case in await cases_sql.cases_entered(session, group, entered_on):
                await run_step(session, case, step, business_date, ctx)
                ran += 1
    return ran


def _later_steps(strategy: Strategy, group: SegmentGroup) -> list[Step]:
    segment = next((s for s in strategy.segments if s.name == group.segment), None)
    variant = (
        next((v for v in segment.variants if v.name == group.variant), None) if segment else None
    )
    return [s for s in variant.path if s.day > 0] if variant else []


async def run_step(
    session: AsyncSession,
    case: CaseRecord,
    step: Step,
    on: date,
    ctx: Context,
    ref: RowMapping | None = None,
) -> None:
    """Run one step of an open case: a message decided by the guard, or a line for collectors."""
    now = ctx.now()
    if step.action in TASKS:
        await work_sql.insert_task(session, {
            "task_id": uuid.uuid4(), "case_id": case.case_id, "kind": step.action.value,
            "queue": step.queue or "default", "due_on": on,
            "assignees": [case.assignee] if case.assignee else [], "status": "open",
            "created_at": now,
        })  # fmt: skip
    if step.action not in MESSAGES:
        detail = {"action": step.action.value, "queue": step.queue, "day": step.day}
        await effects.timeline(session, case.case_id, [TimelineEntry(now, on, "step_due", detail)])
        return
    ref = ref or await cases_sql.loan_ref(session, case.loan_id)
    if ref is None:
        return
    planned = contacts.Planned(
        loan_id=case.loan_id,
        borrower_id=case.borrower_id,
        channel=step.action.value,
        time_zone=str(ref["time_zone"]),
        pack=case.pack,
        business_date=on,
        case_id=case.case_id,
        template_id=step.template_id,
        purpose=step.purpose,
        to=_address(step, ref),
        request_key=_request_key(case, step),
        variables=variables(case, ref, on, ctx.contact_line),
    )
    recorded = await contacts.decide_and_record(session, planned, now, case_open=True)
    detail = {
        "decision_id": str(recorded.decision_id),
        "channel": step.action.value,
        "template_id": step.template_id,
        "outcome": recorded.decision.outcome.value,
        "rule": recorded.decision.rule.value if recorded.decision.rule else None,
    }
    await effects.timeline(
        session, case.case_id, [TimelineEntry(now, on, "contact_decided", detail)]
    )


def _request_key(case: CaseRecord, step: Step) -> str:
    return "|".join(
        str(x)
        for x in (
            case.case_id,
            case.strategy_id,
            case.strategy_version,
            case.segment,
            case.variant,
            case.segment_entered_on,
            step.day,
            step.action.value,
            step.template_id,
            "borrower",
        )
    )


def _address(step: Step, ref: object) -> str | None:
    values = dict(ref)  # type: ignore[call-overload]
    address = values.get("email") if step.action.value == "email" else values.get("phone")
    return str(address) if address else None


def variables(case: CaseRecord, ref: object, on: date, contact_line: str) -> dict[str, str]:
    """What the templates of collection messages may use (notify checks each is declared)."""
    values = dict(ref)  # type: ignore[call-overload]
    return {
        "name": str(values["name"]),
        "amount_due": str(case.overdue_amount),
        "dpd": str(case.dpd),
        # DPD counts from the oldest unpaid due date: DPD 1 on D + 1 for a loan due on D
        "due_date": (on - timedelta(days=case.dpd)).isoformat(),
        "loan_id": case.loan_id,
        "contact_line": contact_line,
    }


async def contact_attempt(
    session: AsyncSession,
    case_id: uuid.UUID,
    channel: str,
    recipient: str,
    to: str | None,
    ctx: Context,
) -> contacts.Recorded:
    """A collector's call or visit, decided before it happens (BRIEF decision 3): allowed, or
    deferred or refused with the rule; an allowed one holds its slot in the ledger."""
    case = await cases_sql.get_case(session, case_id)
    ref = await cases_sql.loan_ref(session, case.loan_id) if case else None
    if case is None or ref is None:
        raise NotFound("case", str(case_id))
    on = await cases_sql.business_date_of(session, case.loan_id) or case.opened_on
    planned = contacts.Planned(
        loan_id=case.loan_id,
        borrower_id=case.borrower_id,
        channel=channel,
        time_zone=str(ref["time_zone"]),
        pack=case.pack,
        business_date=on,
        case_id=case.case_id,
        recipient=recipient,
        to=to or number_to_call(ref, recipient),
        request_key=f"attempt|{uuid.uuid4()}",
    )
    recorded = await contacts.decide_and_record(session, planned, ctx.now())
    detail: dict[str, object] = {
        "decision_id": str(recorded.decision_id),
        "channel": channel,
        "recipient": recipient,
        "outcome": recorded.decision.outcome.value,
        "rule": recorded.decision.rule.value if recorded.decision.rule else None,
    }
    await effects.timeline(
        session, case_id, [TimelineEntry(ctx.now(), on, "contact_decided", detail)]
    )
    return recorded
