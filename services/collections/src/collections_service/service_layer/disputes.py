"""The dispute workflow beyond open and resolve (``protections``): evidence from either side,
a resolution with its outcome and reasons, and replies to the borrower, each a required notice
(``dispute_reply``) decided by the guard and requested from notify like every contact."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import business_day_sql, cases_sql
from collections_service.adapters import disputes_sql as sql
from collections_service.adapters.cases_sql import TimelineEntry
from collections_service.domain.disputes import DisputeOutcome, outcome_problem, resolution_of
from collections_service.service_layer import contacts, effects, notices, protections
from collections_service.service_layer.clock import Context
from shared.compliance.vocabulary import Purpose
from shared.problems import Conflict


@dataclass(frozen=True, slots=True)
class DisputeFile:
    dispute: protections.Dispute
    evidence: list[dict[str, Any]]
    outcome: dict[str, Any] | None
    replies: list[dict[str, Any]]


async def dispute_file(session: AsyncSession, dispute_id: uuid.UUID) -> DisputeFile:
    dispute = await protections.get_dispute(session, dispute_id)
    outcome = await sql.outcome(session, dispute_id)
    return DisputeFile(
        dispute,
        [dict(r) for r in await sql.evidence(session, dispute_id)],
        dict(outcome) if outcome else None,
        [dict(r) for r in await sql.replies(session, dispute_id)],
    )


async def _business_date(session: AsyncSession, loan_id: str) -> date | None:
    """The loan's business date (None before monitoring's first fact about it)."""
    return await business_day_sql.today_of_loan(session, loan_id)


async def add_evidence(
    session: AsyncSession, dispute_id: uuid.UUID, item: dict[str, Any], actor: str | None,
    ctx: Context,
) -> DisputeFile:  # fmt: skip
    """Attach a document (metadata, a link, or its text) while the dispute is open."""
    dispute = await protections.get_dispute(session, dispute_id)
    if dispute.status != "open":
        raise Conflict(f"dispute {dispute_id} is resolved: its file is closed")
    on = await _business_date(session, dispute.loan_id)
    await sql.add_evidence(session, {
        "evidence_id": uuid.uuid4(), "dispute_id": dispute_id, **item, "added_by": actor,
        "added_on": on, "added_at": ctx.now(),
    })  # fmt: skip
    return await dispute_file(session, dispute_id)


@dataclass(frozen=True, slots=True)
class Resolution:
    outcome: DisputeOutcome
    summary: str
    corrected_amount: Decimal | None = None


async def resolve(
    session: AsyncSession, dispute_id: uuid.UUID, asked: Resolution, actor: str | None,
    ctx: Context,
) -> DisputeFile:  # fmt: skip
    """Resolve with an outcome and reasons; collection resumes (``dispute.resolved``)."""
    found = await dispute_file(session, dispute_id)
    lender = sum(1 for e in found.evidence if e["submitted_by"] == "lender")
    problem = outcome_problem(asked.outcome, asked.corrected_amount, lender)
    if problem is not None:
        field, message = problem.split(": ", 1)
        raise notices.invalid(field, message)
    resolved = await protections.resolve_dispute(
        session, dispute_id, resolution_of(asked.outcome), ctx.now()
    )
    on = await _business_date(session, resolved.loan_id)
    await sql.record_outcome(session, {
        "dispute_id": dispute_id, "outcome": asked.outcome.value, "summary": asked.summary,
        "corrected_amount": asked.corrected_amount, "resolved_by": actor, "resolved_on": on,
    })  # fmt: skip
    return await dispute_file(session, dispute_id)


async def reply(
    session: AsyncSession, dispute_id: uuid.UUID, channel: str, template_id: str,
    actor: str | None, ctx: Context,
) -> tuple[DisputeFile, contacts.Recorded]:  # fmt: skip
    """Write to the borrower about the dispute, through the guard, on the loan's open case."""
    found = await dispute_file(session, dispute_id)
    case = await cases_sql.open_case(session, found.dispute.loan_id)
    if case is None:
        raise Conflict(f"loan {found.dispute.loan_id} has no open case to reply on")
    variables = {"dispute_id": str(dispute_id), "dispute_status": found.dispute.status,
                 "dispute_outcome": found.outcome["outcome"] if found.outcome else ""}  # fmt: skip
    # the same reply asked twice (a retry, a double click) is one message: the same request id
    key = f"dispute-reply|{dispute_id}|{found.dispute.status}|{template_id}|{channel}"
    notice = notices.Notice(Purpose.DISPUTE_REPLY.value, channel, template_id, key, variables)
    recorded, request_id = await notices.request_notice(session, case, notice, ctx)
    if notices.refused(recorded):  # in the decisions log; no reply went
        return found, recorded
    if any(r["request_id"] == request_id for r in found.replies):
        return found, recorded
    await sql.add_reply(session, {
        "decision_id": recorded.decision_id, "dispute_id": dispute_id, "request_id": request_id,
        "channel": channel, "template_id": template_id, "sent_by": actor, "created_at": ctx.now(),
    })  # fmt: skip
    on = await business_day_sql.today_of_case(session, case.case_id)
    line = TimelineEntry(ctx.now(), on, "dispute_reply", {"dispute_id": str(dispute_id),
                         "decision_id": str(recorded.decision_id)})  # fmt: skip
    await effects.timeline(session, case.case_id, [line])
    return await dispute_file(session, dispute_id), recorded
