"""Routes of outside agencies: the whitelist (admin), placements of a case, the agency's
actions and recall."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from collections_service.domain.agencies import AgencyAction
from collections_service.entrypoints.api.deps import (
    ContextDep,
    PrincipalDep,
    VisibleCaseId,
    VisiblePlacementId,
)
from collections_service.entrypoints.api.refusals import refusal
from collections_service.service_layer import agencies
from collections_service.service_layer.notices import invalid
from shared.app import SessionDep
from shared.params import Instant
from shared.types import ExternalId

agency_router = APIRouter(prefix="/api/v1/agencies", tags=["agencies"])
placement_router = APIRouter(prefix="/api/v1", tags=["agencies"])

AGENCY_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class AgencyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    contact_line: str = Field(min_length=1, max_length=200)
    active: bool = True


class AgencyOut(BaseModel):
    agency_id: str
    name: str
    contact_line: str
    active: bool
    updated_by: str | None
    updated_at: datetime


@agency_router.get("", response_model=list[AgencyOut])
async def list_agencies(session: SessionDep) -> list[AgencyOut]:
    """The whitelist: only an active agency takes placements."""
    return [AgencyOut.model_validate(a, from_attributes=True)
            for a in await agencies.list_agencies(session)]  # fmt: skip


@agency_router.get("/{agency_id}", response_model=AgencyOut)
async def get_agency(agency_id: ExternalId, session: SessionDep) -> AgencyOut:
    return AgencyOut.model_validate(
        await agencies.get_agency(session, agency_id), from_attributes=True
    )


@agency_router.put("/{agency_id}", response_model=AgencyOut)
async def put_agency(
    agency_id: ExternalId,
    body: AgencyIn,
    session: SessionDep,
    ctx: ContextDep,
    principal: PrincipalDep,
) -> AgencyOut:
    """Add an agency to the whitelist or change it (``active: false`` takes it off)."""
    if not AGENCY_ID.fullmatch(agency_id):
        raise invalid("agency_id", "letters, digits, '_', '.', '-' (1-64)")
    saved = await agencies.put_agency(
        session, agency_id, body.name, body.contact_line, body.active, principal.subject, ctx
    )
    return AgencyOut.model_validate(saved, from_attributes=True)


class PlacementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agency_id: str = Field(min_length=1, max_length=64)
    channel: Literal["letter", "email", "sms"] = "letter"
    template_id: str = Field(min_length=1, max_length=100)


class PlacementOut(BaseModel):
    placement_id: VisiblePlacementId
    case_id: VisibleCaseId
    agency_id: str
    status: str
    notice_request_id: uuid.UUID
    requested_on: date
    placed_on: date | None
    recalled_on: date | None
    recall_reason: str | None
    requested_by: str | None
    created_at: datetime


def _out(placement: agencies.Placement) -> PlacementOut:
    return PlacementOut.model_validate(placement, from_attributes=True)


@placement_router.post("/cases/{case_id}/placements", status_code=201, response_model=PlacementOut)
async def request_placement(
    case_id: VisibleCaseId, body: PlacementIn, session: SessionDep, ctx: ContextDep,
    principal: PrincipalDep,
) -> PlacementOut | JSONResponse:  # fmt: skip
    """Start placing the case with a whitelisted agency: the borrower's notice is requested
    (409 naming the rule when the guard refuses it)."""
    asked = agencies.PlacementRequest(body.agency_id, body.channel, body.template_id)
    found = await agencies.request_placement(session, case_id, asked, principal.subject, ctx)
    return refusal(found) if isinstance(found, agencies.Recorded) else _out(found)


@placement_router.get("/cases/{case_id}/placements", response_model=list[PlacementOut])
async def list_placements(case_id: VisibleCaseId, session: SessionDep) -> list[PlacementOut]:
    return [_out(p) for p in await agencies.placements_of(session, case_id)]


@placement_router.post("/placements/{placement_id}/place", response_model=PlacementOut)
async def place(
    placement_id: VisiblePlacementId, session: SessionDep, ctx: ContextDep
) -> PlacementOut:
    """Hand the case to the agency: 409 until notify has sent the borrower's notice."""
    return _out(await agencies.place(session, placement_id, ctx))


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: AgencyAction
    occurred_at: Instant
    note: str | None = Field(default=None, max_length=2000)
    amount: Decimal | None = Field(default=None, gt=0, max_digits=18, decimal_places=2)


@placement_router.post("/placements/{placement_id}/actions", status_code=201,
                       response_model=PlacementOut)  # fmt: skip
async def record_action(
    placement_id: VisiblePlacementId, body: ActionIn, session: SessionDep, ctx: ContextDep
) -> PlacementOut:
    """What the agency reports doing, onto the case's timeline (``agency_action``); a call,
    visit or letter is judged by the guard and counted like a collector's contact (one the
    guard would have refused is kept with its ``breach`` and announced)."""
    report = agencies.AgencyReport(body.kind, body.occurred_at, body.note, body.amount)
    return _out(await agencies.record_action(session, placement_id, report, ctx))


class RecallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


@placement_router.post("/placements/{placement_id}/recall", response_model=PlacementOut)
async def recall(
    placement_id: VisiblePlacementId, body: RecallIn, session: SessionDep, ctx: ContextDep
) -> PlacementOut:
    """Take the case back from the agency."""
    return _out(await agencies.recall(session, placement_id, body.reason, ctx))
