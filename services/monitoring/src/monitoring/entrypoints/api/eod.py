"""Routes of the business date and the end-of-day batch (run by the worker in ``workers``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal, cast

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict

from monitoring.domain.buckets import DEFAULT_BUCKETS, BucketScale, parse_buckets
from monitoring.service_layer.eod import (
    RunRecord,
    RunSummary,
    current_business_date,
    progress,
    read_run,
    request_eod,
)
from monitoring.settings import MonitoringSettings
from monitoring.workers import EndOfDayRuns
from shared.app import RuntimeDep, SessionDep
from shared.params import CalendarDate
from shared.types import ExternalId, Money

router = APIRouter(prefix="/api/v1", tags=["end of day"])


class BusinessDatePublic(BaseModel):
    business_date: date


class EodRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: CalendarDate


class BucketTotal(BaseModel):
    bucket: str
    count: int
    outstanding: Money


class EodSummary(BaseModel):
    buckets: list[BucketTotal]
    loans: int
    outstanding: Money
    penalty_accrued: Money


RunStatus = Literal["running", "completed", "failed"]


class EodRunPublic(BaseModel):
    run_id: str
    as_of: date
    status: RunStatus
    step: str
    loans_total: int
    loans_done: int
    progress: float
    transitions: int
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    summary: EodSummary | None = None


def _public(run: RunRecord, summary: RunSummary | None = None) -> EodRunPublic:
    totals = None
    if summary is not None:
        buckets = [BucketTotal(bucket=b, count=n, outstanding=s) for b, n, s in summary.buckets]
        totals = EodSummary(
            buckets=buckets,
            loans=sum(b.count for b in buckets),
            outstanding=sum((b.outstanding for b in buckets), Decimal("0.00")),
            penalty_accrued=summary.penalty_accrued,
        )
    return EodRunPublic(
        run_id=run.run_id,
        as_of=run.as_of,
        status=cast(RunStatus, run.status),
        step=run.step,
        loans_total=run.loans_total,
        loans_done=run.loans_done,
        progress=progress(run),
        transitions=run.transitions,
        started_at=run.started_at,
        finished_at=run.finished_at,
        error=run.error,
        summary=totals,
    )


def bucket_scale(request: Request) -> BucketScale:
    settings = request.app.state.settings
    if isinstance(settings, MonitoringSettings):
        return settings.bucket_scale
    return parse_buckets(DEFAULT_BUCKETS)


def _runner(request: Request) -> EndOfDayRuns:
    runner: EndOfDayRuns = request.app.state.eod_runner
    return runner


@router.get("/business-date", response_model=BusinessDatePublic)
async def get_business_date(session: SessionDep) -> BusinessDatePublic:
    """The platform's business date (moved on only by end of day)."""
    return BusinessDatePublic(business_date=await current_business_date(session))


@router.post(
    "/eod",
    response_model=EodRunPublic,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        200: {"model": EodRunPublic, "description": "That date is done: nothing runs again"},
        409: {"description": "as_of is not the business date"},
    },
)
async def post_eod(
    body: EodRequest, request: Request, rt: RuntimeDep, response: Response
) -> EodRunPublic:
    """Run end of day for the business date in the background (resumes an unfinished run)."""
    requested = await request_eod(rt.db, body.as_of)
    if requested.to_run:
        _runner(request).start(requested.run.run_id)
    else:
        response.status_code = status.HTTP_200_OK
    return _public(requested.run)


@router.get("/eod/{run_id}", response_model=EodRunPublic)
async def get_eod(run_id: ExternalId, request: Request, session: SessionDep) -> EodRunPublic:
    """An end-of-day run's progress, and its summary once completed."""
    run, summary = await read_run(session, run_id, bucket_scale(request))
    return _public(run, summary)
