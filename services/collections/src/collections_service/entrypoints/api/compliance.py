"""Routes of the compliance guard's data: packs, the decisions log, preferences and disputes."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from collections_service.entrypoints.api.deps import ContextDep, VisibleBorrowerId, VisibleLoanId
from collections_service.service_layer import access, decisions, documents, protections
from shared.app import SessionDep
from shared.compliance.vocabulary import Channel, Outcome
from shared.pagination import decode_time_cursor, encode_time_cursor
from shared.params import Cursor, PageLimit, Version
from shared.principal import PrincipalDep
from shared.types import ExternalId

router = APIRouter(prefix="/api/v1", tags=["compliance"])


def _pack(v: documents.Version) -> dict[str, Any]:
    return {
        "pack": v.key,
        "version": v.version,
        "active": v.active,
        "created_at": v.created_at.isoformat(),
        "document": v.document,
    }


@router.get("/compliance-packs")
async def list_packs(session: SessionDep) -> dict[str, list[dict[str, Any]]]:
    """Every pack with its active version and the versions stored."""
    by_pack: dict[str, list[documents.Version]] = {}
    for v in await documents.packs(session):
        by_pack.setdefault(v.key, []).append(v)
    return {
        "items": [
            {
                "pack": k,
                "active_version": next((v.version for v in vs if v.active), None),
                "versions": [v.version for v in vs],
            }
            for k, vs in by_pack.items()
        ]
    }


@router.get("/compliance-packs/{pack}")
async def get_pack(pack: ExternalId, session: SessionDep) -> dict[str, Any]:
    """The version every decision uses now."""
    return _pack(await documents.active_pack(session, pack))


@router.get("/compliance-packs/{pack}/versions/{version}")
async def get_pack_version(
    pack: ExternalId, version: Version, session: SessionDep
) -> dict[str, Any]:
    return _pack(await documents.pack_version(session, pack, version))


@router.put("/compliance-packs/{pack}", status_code=201)
async def put_pack(
    pack: ExternalId, session: SessionDep, document: Annotated[dict[str, Any], Body()]
) -> JSONResponse:
    """Store a new, inactive version (422 lists every mistake; nothing is stored)."""
    return JSONResponse(
        _pack(await documents.upload_pack(session, pack, document)), status_code=201
    )


@router.post("/compliance-packs/{pack}/versions/{version}/activate")
async def activate_pack(
    pack: ExternalId, version: Version, session: SessionDep, ctx: ContextDep
) -> dict[str, Any]:
    """Every later decision uses this version, open cases included; notify is told."""
    return _pack(await documents.activate_pack(session, pack, version, ctx.now()))


class DecisionPublic(BaseModel):
    decision_id: uuid.UUID
    case_id: uuid.UUID | None
    loan_id: str
    borrower_id: str
    recipient: str
    channel: str
    template_id: str | None
    purpose: str
    outcome: Outcome
    rule: str | None
    reason: str
    pack: str
    pack_version: int
    decided_at: datetime
    deferred_until: datetime | None
    request_id: uuid.UUID | None


class DecisionPage(BaseModel):
    items: list[DecisionPublic]
    next_cursor: str | None


@router.get("/contact-decisions", response_model=DecisionPage)
async def list_decisions(
    session: SessionDep,
    principal: PrincipalDep,
    loan_id: ExternalId | None = None,
    borrower_id: ExternalId | None = None,
    case_id: uuid.UUID | None = None,
    outcome: Outcome | None = None,
    cursor: Cursor | None = None,
    limit: PageLimit = 50,
) -> DecisionPage:
    """The guard's decisions about the cases the caller may see, newest first: allowed,
    deferred or refused, with the rule."""
    where = decisions.DecisionFilter(
        loan_id, borrower_id, case_id, outcome.value if outcome else None
    )
    rows = await decisions.list_decisions(
        session, where, principal, after=decode_time_cursor(cursor), limit=limit + 1
    )
    page = [DecisionPublic.model_validate(dict(r)) for r in rows[:limit]]
    more = len(rows) > limit
    next_cursor = (
        encode_time_cursor(page[-1].decided_at, str(page[-1].decision_id)) if more else None
    )
    return DecisionPage(items=page, next_cursor=next_cursor)


class Hours(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    start: time = Field(alias="from")
    end: time = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Hours:
        if self.start >= self.end:
            raise ValueError("from must be before to, within one day")
        return self


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stopped_channels: list[Channel] = []
    preferred_hours: Hours | None = None
    consent: bool = False  # the borrower consented to calls in preferred_hours (BRIEF decision 7)


class PreferencesOut(BaseModel):
    borrower_id: str
    stopped_channels: list[str]
    preferred_hours: dict[str, str] | None
    consent: bool
    updated_at: datetime


@router.put("/borrowers/{borrower_id}/contact-preferences", response_model=PreferencesOut)
async def put_preferences(
    borrower_id: VisibleBorrowerId, body: PreferencesIn, session: SessionDep, ctx: ContextDep
) -> PreferencesOut:
    """Holds from this moment: every later decision (and notify's send-time check) reads it."""
    hours = (body.preferred_hours.start, body.preferred_hours.end) if body.preferred_hours else None
    saved = await protections.set_preferences(
        session,
        borrower_id,
        [c.value for c in body.stopped_channels],
        hours,
        body.consent,
        ctx.now(),
    )
    window = (
        {"from": hours[0].strftime("%H:%M"), "to": hours[1].strftime("%H:%M")} if hours else None
    )
    return PreferencesOut(
        borrower_id=borrower_id,
        stopped_channels=list(saved.stopped_channels),
        preferred_hours=window,
        consent=saved.consent,
        updated_at=ctx.now(),
    )


class DisputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: Literal["upheld", "rejected"]


class DisputeOut(BaseModel):
    dispute_id: uuid.UUID
    loan_id: str
    borrower_id: str
    reason: str
    status: str
    resolution: str | None
    opened_at: datetime
    resolved_at: datetime | None


@router.post("/loans/{loan_id}/disputes", status_code=201, response_model=DisputeOut)
async def open_dispute(
    loan_id: VisibleLoanId, body: DisputeIn, session: SessionDep, ctx: ContextDep
) -> DisputeOut:
    """Collection on the loan freezes from this moment until the dispute is resolved."""
    return DisputeOut.model_validate(
        await protections.open_dispute(session, loan_id, body.reason, ctx.now()),
        from_attributes=True,
    )


@router.post(
    "/disputes/{dispute_id}/resolve",
    response_model=DisputeOut,
    responses={409: {"description": "The dispute is resolved already"}},
)
async def resolve_dispute(
    dispute_id: uuid.UUID,
    body: ResolveIn,
    session: SessionDep,
    ctx: ContextDep,
    principal: PrincipalDep,
) -> DisputeOut:
    """Collection resumes once no dispute of the loan is open."""
    await access.visible_dispute(session, principal, dispute_id)
    resolved = await protections.resolve_dispute(session, dispute_id, body.resolution, ctx.now())
    return DisputeOut.model_validate(resolved, from_attributes=True)
