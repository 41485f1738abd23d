"""Routes of legal escalation: the final notice, the transfer to legal, and the legal file
(court, case number, status, documents, judgment and the dishonest-debtor flag)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from collections_service.domain.legal import Judgment, JudgmentOutcome, LegalStatus
from collections_service.entrypoints.api.deps import (
    ContextDep,
    PrincipalDep,
    VisibleCaseId,
    VisibleLegalFileId,
)
from collections_service.entrypoints.api.refusals import refusal
from collections_service.service_layer import legal
from collections_service.service_layer.notices import refused
from shared.app import SessionDep

router = APIRouter(prefix="/api/v1", tags=["legal"])


class LegalFileOut(BaseModel):
    legal_file_id: VisibleLegalFileId
    case_id: VisibleCaseId
    loan_id: str
    borrower_id: str
    status: str
    notice_sent_on: date
    escalated_on: date
    court: str | None
    court_case_number: str | None
    judgment_on: date | None
    judgment_amount: Decimal | None
    judgment_outcome: str | None
    dishonest_debtor: bool
    documents: list[dict[str, Any]]
    escalated_by: str | None
    updated_at: datetime


def _out(found: legal.LegalFile) -> LegalFileOut:
    return LegalFileOut.model_validate(found, from_attributes=True)


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["letter", "email", "sms"] = "letter"
    template_id: str = Field(min_length=1, max_length=100)


@router.post("/cases/{case_id}/legal-notice", status_code=201, response_model=None)
async def final_notice(
    case_id: VisibleCaseId, body: NoticeIn, session: SessionDep, ctx: ContextDep
) -> dict[str, Any] | JSONResponse:
    """The written notice before legal escalation (purpose ``legal_notice``), through the guard
    (409 naming the rule when it refuses)."""
    recorded = await legal.request_final_notice(session, case_id, body.channel,
                                                body.template_id, ctx)  # fmt: skip
    if refused(recorded):
        return refusal(recorded)
    decision = recorded.decision
    return {"decision_id": str(recorded.decision_id), "outcome": decision.outcome.value,
            "rule": decision.rule.value if decision.rule else None, "reason": decision.reason,
            "deferred_until": decision.until.isoformat() if decision.until else None,
            "request_id": str(recorded.request_id) if recorded.request_id else None}  # fmt: skip


@router.post("/cases/{case_id}/legal-escalation", status_code=201, response_model=LegalFileOut)
async def escalate(
    case_id: VisibleCaseId, session: SessionDep, ctx: ContextDep, principal: PrincipalDep
) -> LegalFileOut:
    """Transfer the case to legal: 409 before the notice is sent and its waiting period over."""
    return _out(await legal.escalate(session, case_id, principal.subject, ctx))


@router.get("/cases/{case_id}/legal-file", response_model=LegalFileOut)
async def file_of_case(case_id: VisibleCaseId, session: SessionDep) -> LegalFileOut:
    return _out(await legal.file_of_case(session, case_id))


class FileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: LegalStatus | None = None
    court: str | None = Field(default=None, min_length=1, max_length=200)
    court_case_number: str | None = Field(default=None, min_length=1, max_length=100)


@router.patch("/legal-files/{legal_file_id}", response_model=LegalFileOut)
async def update_file(
    legal_file_id: VisibleLegalFileId, body: FileIn, session: SessionDep, ctx: ContextDep
) -> LegalFileOut:
    """Court, court case number and status (a filed file names its court and number)."""
    change = legal.FileChange(body.status, body.court, body.court_case_number)
    return _out(await legal.update_file(session, legal_file_id, change, ctx))


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["complaint", "evidence", "notice", "court_order", "judgment", "other"]
    title: str = Field(min_length=1, max_length=200)
    uri: str | None = Field(default=None, max_length=1000)
    text: str | None = Field(default=None, max_length=20000)


@router.post("/legal-files/{legal_file_id}/documents", status_code=201,
             response_model=LegalFileOut)  # fmt: skip
async def add_document(
    legal_file_id: VisibleLegalFileId, body: DocumentIn, session: SessionDep, ctx: ContextDep
) -> LegalFileOut:
    return _out(await legal.add_document(session, legal_file_id, body.model_dump(), ctx))


class JudgmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    judgment_on: date
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=2)
    outcome: JudgmentOutcome = JudgmentOutcome.FOR_LENDER


@router.post("/legal-files/{legal_file_id}/judgment", response_model=LegalFileOut)
async def record_judgment(
    legal_file_id: VisibleLegalFileId, body: JudgmentIn, session: SessionDep, ctx: ContextDep
) -> LegalFileOut:
    """Record the court's judgment (once); for the lender, it flags the borrower (失信)."""
    judgment = Judgment(body.judgment_on, body.amount, body.outcome)
    return _out(await legal.record_judgment(session, legal_file_id, judgment, ctx))
