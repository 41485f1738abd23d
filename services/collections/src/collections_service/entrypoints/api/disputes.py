"""Routes of the dispute workflow: the file (evidence, outcome, replies), evidence, resolution
with an outcome, and replies to the borrower through the guard and notify."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from collections_service.domain.disputes import DisputeOutcome, EvidenceKind
from collections_service.entrypoints.api.deps import ContextDep, PrincipalDep, VisibleDisputeId
from collections_service.entrypoints.api.refusals import refusal
from collections_service.service_layer import disputes
from collections_service.service_layer.notices import refused
from shared.app import SessionDep

router = APIRouter(prefix="/api/v1/disputes", tags=["disputes"])


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: EvidenceKind
    submitted_by: Literal["borrower", "lender"]
    title: str = Field(min_length=1, max_length=200)
    text: str | None = Field(default=None, max_length=20000)
    uri: str | None = Field(default=None, max_length=1000)
    media_type: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _something(self) -> EvidenceIn:
        if self.text is None and self.uri is None:
            raise ValueError("evidence needs its text or the uri of the document")
        return self


class EvidenceOut(BaseModel):
    evidence_id: uuid.UUID
    kind: str
    submitted_by: str
    title: str
    text: str | None
    uri: str | None
    media_type: str | None
    added_by: str | None
    added_on: date | None
    added_at: datetime


class OutcomeOut(BaseModel):
    outcome: str
    summary: str
    corrected_amount: Decimal | None
    resolved_by: str | None
    resolved_on: date | None


class ReplyOut(BaseModel):
    decision_id: uuid.UUID
    request_id: uuid.UUID
    channel: str
    template_id: str
    sent_by: str | None
    created_at: datetime


class DisputeFileOut(BaseModel):
    dispute_id: VisibleDisputeId
    loan_id: str
    borrower_id: str
    reason: str
    status: str
    resolution: str | None
    opened_at: datetime
    resolved_at: datetime | None
    evidence: list[EvidenceOut]
    outcome: OutcomeOut | None
    replies: list[ReplyOut]


def _out(found: disputes.DisputeFile) -> DisputeFileOut:
    d = found.dispute
    return DisputeFileOut(
        dispute_id=d.dispute_id, loan_id=d.loan_id, borrower_id=d.borrower_id, reason=d.reason,
        status=d.status, resolution=d.resolution, opened_at=d.opened_at,
        resolved_at=d.resolved_at,
        evidence=[EvidenceOut.model_validate(e) for e in found.evidence],
        outcome=OutcomeOut.model_validate(found.outcome) if found.outcome else None,
        replies=[ReplyOut.model_validate(r) for r in found.replies],
    )  # fmt: skip


@router.get("/{dispute_id}", response_model=DisputeFileOut)
async def get_dispute(dispute_id: VisibleDisputeId, session: SessionDep) -> DisputeFileOut:
    """The dispute with its evidence, its outcome and the replies sent."""
    return _out(await disputes.dispute_file(session, dispute_id))


@router.post(
    "/{dispute_id}/evidence",
    status_code=201,
    response_model=DisputeFileOut,
    responses={409: {"description": "The dispute is resolved already"}},
)
async def add_evidence(
    dispute_id: VisibleDisputeId,
    body: EvidenceIn,
    session: SessionDep,
    ctx: ContextDep,
    principal: PrincipalDep,
) -> DisputeFileOut:
    """Attach a document (its metadata and link, or its text) to an open dispute."""
    item = body.model_dump()
    item["kind"] = body.kind.value
    return _out(await disputes.add_evidence(session, dispute_id, item, principal.subject, ctx))


class ResolutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: DisputeOutcome
    summary: str = Field(min_length=1, max_length=5000)
    corrected_amount: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)


@router.post(
    "/{dispute_id}/resolution",
    response_model=DisputeFileOut,
    responses={409: {"description": "The dispute is resolved already"}},
)
async def resolve(
    dispute_id: VisibleDisputeId, body: ResolutionIn, session: SessionDep, ctx: ContextDep,
    principal: PrincipalDep,
) -> DisputeFileOut:  # fmt: skip
    """Resolve with an outcome (upheld, corrected, rejected) and its reasons; collection resumes."""
    asked = disputes.Resolution(body.outcome, body.summary, body.corrected_amount)
    return _out(await disputes.resolve(session, dispute_id, asked, principal.subject, ctx))


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["letter", "email", "sms"] = "letter"
    template_id: str = Field(min_length=1, max_length=100)


@router.post(
    "/{dispute_id}/replies",
    status_code=201,
    response_model=None,
    responses={409: {"description": "The dispute is resolved already"}},
)
async def reply(
    dispute_id: VisibleDisputeId, body: ReplyIn, session: SessionDep, ctx: ContextDep,
    principal: PrincipalDep,
) -> dict[str, Any] | JSONResponse:  # fmt: skip
    """Reply to the borrower (purpose ``dispute_reply``): the guard decides, notify sends
    (409 naming the rule when the guard refuses)."""
    found, recorded = await disputes.reply(
        session, dispute_id, body.channel, body.template_id, principal.subject, ctx
    )
    if refused(recorded):
        return refusal(recorded)
    decision = recorded.decision
    return {
        "dispute": _out(found).model_dump(mode="json"),
        "decision": {"decision_id": str(recorded.decision_id), "outcome": decision.outcome.value,
                     "rule": decision.rule.value if decision.rule else None,
                     "reason": decision.reason,
                     "request_id": str(recorded.request_id) if recorded.request_id else None},
    }  # fmt: skip
