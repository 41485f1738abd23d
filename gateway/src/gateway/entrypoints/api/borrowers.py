"""``GET /api/v1/borrowers/{borrower_id}``: the borrower 360° view, aggregated by the gateway."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from gateway.domain.forwarding import HeaderList
from gateway.domain.principal import Principal
from gateway.domain.scopes import Scope
from gateway.entrypoints.api.deps import GatewayDep, require
from gateway.service_layer.borrowers import SourceStatus, borrower_view
from shared.principal import WIDE_ROLES
from shared.types import ExternalId

router = APIRouter(tags=["borrowers"])

BorrowerId = ExternalId
Reader = Annotated[Principal, Depends(require(Scope.BORROWERS_READ))]


class SourcePublic(BaseModel):
    service: str
    status: SourceStatus
    detail: str | None = None


class BorrowerPublic(BaseModel):
    """Each part is ``null`` when its service failed; ``sources`` says which and why."""

    borrower_id: str
    contact: dict[str, Any] | None
    loans: list[dict[str, Any]] | None
    bureau_reports: list[dict[str, Any]] | None
    sources: dict[str, SourcePublic]


@router.get(
    "/api/v1/borrowers/{borrower_id}",
    response_model=BorrowerPublic,
    response_model_exclude_none=False,
    responses={404: {"description": "No service knows the borrower"}},
)
async def get_borrower(
    borrower_id: BorrowerId, request: Request, gw: GatewayDep, reader: Reader
) -> BorrowerPublic:
    """A borrower's contact channels, loans and bureau history in one document (360° view)."""
    request_id = request.scope.get("state", {}).get("request_id") or uuid.uuid4().hex
    headers = [("x-request-id", request_id), ("accept", "application/json")]

    async def identity(method: str, path: str) -> HeaderList:
        return await gw.identity.headers(reader, method, path)

    view = await borrower_view(
        gw.proxy,
        borrower_id,
        headers=headers,
        identity=identity,
        unmasked=reader.allows(Scope.PII_READ),
        own_cases_only=WIDE_ROLES.isdisjoint(reader.roles),
    )
    return BorrowerPublic.model_validate(view)
