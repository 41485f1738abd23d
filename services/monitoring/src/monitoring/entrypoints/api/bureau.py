"""Routes of credit bureau data: post a report, read a borrower's history, refresh."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from monitoring.domain.bureau import RefreshPolicy
from monitoring.service_layer.bureau import (
    AdapterFactory,
    record_report,
    refresh_reports,
    simulated_bureau,
)
from monitoring.service_layer.bureau import report_history as history
from monitoring.settings import MonitoringSettings
from shared.app import RuntimeDep, SessionDep
from shared.events import BureauReported
from shared.pagination import decode_time_cursor, encode_time_cursor
from shared.params import Cursor, PageLimit
from shared.types import ExternalId, Money

router = APIRouter(prefix="/api/v1", tags=["bureau"])


class BureauReportPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    borrower_id: str
    reported_at: datetime
    #: The date the report speaks for, in the borrower's time zone.
    reported_on: date
    score: int
    inquiries_30d: int
    open_loans: int
    total_debt: Money
    delinquent_accounts: int
    received_at: datetime


class BureauReportPage(BaseModel):
    items: list[BureauReportPublic]
    next_cursor: str | None


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int | None = Field(default=None, ge=1, le=100_000)
    max_age_days: int | None = Field(default=None, ge=1, le=3650)


class RefreshPublic(BaseModel):
    as_of: date | None
    requested: int
    stored: int


def _settings(request: Request) -> MonitoringSettings:
    settings = request.app.state.settings
    return settings if isinstance(settings, MonitoringSettings) else MonitoringSettings()


def bureau_adapter(request: Request) -> AdapterFactory:
    """The bureau to ask: the simulated one, seeded from the settings."""
    return simulated_bureau(_settings(request).bureau_seed)


@router.post(
    "/bureau-reports",
    response_model=BureauReportPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": BureauReportPublic, "description": "Recorded before with this body"},
        409: {"description": "Recorded before with a different body"},
        422: {"description": "Invalid report, or unknown borrower"},
    },
)
async def post_report(
    body: BureauReported, session: SessionDep, response: Response
) -> BureauReportPublic:
    """Record a credit bureau report (idempotent on ``borrower_id`` and ``reported_at``)."""
    recorded = await record_report(session, body)
    if not recorded.created:
        response.status_code = status.HTTP_200_OK
    return BureauReportPublic.model_validate(recorded.report)


@router.get("/borrowers/{borrower_id}/bureau-reports", response_model=BureauReportPage)
async def report_history(
    borrower_id: ExternalId,
    session: SessionDep,
    cursor: Cursor | None = None,
    limit: PageLimit = 50,
) -> BureauReportPage:
    """A borrower's bureau reports, newest first, one page at a time."""
    rows = await history(session, borrower_id, before=_decode(cursor), limit=limit + 1)
    page = [BureauReportPublic.model_validate(r) for r in rows[:limit]]
    more = len(rows) > limit
    return BureauReportPage(items=page, next_cursor=_encode(page[-1]) if more else None)


@router.post("/bureau-refresh", response_model=RefreshPublic)
async def refresh(
    rt: RuntimeDep,
    request: Request,
    adapter_for: Annotated[AdapterFactory, Depends(bureau_adapter)],
    body: RefreshRequest | None = None,
) -> RefreshPublic:
    """Ask the bureau now for the borrowers whose last report is too old, and record them."""
    settings = _settings(request)
    body = body or RefreshRequest()
    outcome = await refresh_reports(
        rt.db,
        adapter_for,
        policy=RefreshPolicy(
            default_max_age_days=body.max_age_days or settings.bureau_max_age_days
        ),
        limit=body.limit or settings.bureau_refresh_batch,
    )
    return RefreshPublic(as_of=outcome.as_of, requested=outcome.requested, stored=outcome.stored)


def _encode(last: BureauReportPublic) -> str:
    return encode_time_cursor(last.reported_at)


def _decode(cursor: str | None) -> datetime | None:
    decoded = decode_time_cursor(cursor)
    return decoded[0] if decoded else None
