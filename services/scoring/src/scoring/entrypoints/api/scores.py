"""Routes of scores: a loan's current score with reasons, its history, its features as of a
past date, and the portfolio's tier distribution."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from scoring.service_layer import queries
from scoring.service_layer.batch import recent_runs
from shared.app import SessionDep
from shared.pagination import decode_cursor, encode_cursor, invalid_cursor
from shared.params import INT8_MAX, CalendarDate, Cursor, PageLimit
from shared.types import ExternalId

router = APIRouter(tags=["scores"])


class ReasonPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    description: str
    points_lost: int


class ShadowScore(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    model_version: str
    pd: Decimal
    score: int
    tier: str
    as_of: date


class ScorePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    loan_id: str
    pd: Decimal
    score: int
    tier: str
    model_version: str
    reasons: list[ReasonPublic]
    scored_at: datetime
    as_of: date = Field(description="The business date of the features the score came from")
    checked_on: date = Field(
        description="The latest business date on which the score was still this one: after "
        "each end of day only loans whose features can move are rescored, and a row changes "
        "only when its score or tier moves"
    )
    features: dict[str, float | None] = Field(description="The features as of ``as_of``")
    challengers: list[ShadowScore]


class ScoreChange(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    model_version: str
    pd: Decimal
    score: int
    tier: str
    reasons: list[ReasonPublic]
    features: dict[str, float | None]
    as_of: date
    scored_at: datetime


class ScoreHistoryPage(BaseModel):
    items: list[ScoreChange]
    next_cursor: str | None


class FeatureSnapshot(BaseModel):
    loan_id: str
    as_of: date
    features: dict[str, float | None]


class TierShare(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    tier: str
    count: int
    share: float
    mean_pd: Decimal | None


class TierDistribution(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    model_version: str
    business_date: date | None
    total: int
    tiers: list[TierShare]


@router.get(
    "/api/v1/scores/{loan_id}",
    response_model=ScorePublic,
    responses={409: {"description": "No champion model yet"}},
)
async def get_score(loan_id: ExternalId, session: SessionDep) -> ScorePublic:
    """The champion's current score of a loan, with its four main reasons (the characteristics
    that cost the most points against their maximum) and the challengers' shadow scores."""
    return ScorePublic.model_validate(await queries.current_score(session, loan_id))


@router.get(
    "/api/v1/scores/{loan_id}/history",
    response_model=ScoreHistoryPage,
    responses={409: {"description": "No champion model yet"}},
)
async def score_history(
    loan_id: ExternalId,
    session: SessionDep,
    model_version: ExternalId | None = None,
    cursor: Cursor | None = None,
    limit: PageLimit = 50,
) -> ScoreHistoryPage:
    """Every change of the loan's score, newest first (champion only unless ``model_version``)."""
    rows = await queries.score_history(
        session, loan_id, model_version, before=_history_cursor(cursor), limit=limit + 1
    )
    more = len(rows) > limit
    page = rows[:limit]
    return ScoreHistoryPage(
        items=[ScoreChange.model_validate(r) for r in page],
        next_cursor=encode_cursor(str(page[-1].id)) if more else None,
    )


@router.get("/api/v1/scores/{loan_id}/features", response_model=FeatureSnapshot)
async def features_as_of(
    loan_id: ExternalId, session: SessionDep, as_of: CalendarDate | None = None
) -> FeatureSnapshot:
    """The loan's features rebuilt from its history as known on ``as_of`` (default: the
    business date): what a score on that date was computed from."""
    day, values = await queries.features_as_of(session, loan_id, as_of)
    return FeatureSnapshot(loan_id=loan_id, as_of=day, features=values)


class RescoreRun(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    run_id: str
    as_of: date
    status: Literal["running", "completed", "superseded"]
    loans_done: int
    changed: int
    started_at: datetime
    finished_at: datetime | None


class RescoreRuns(BaseModel):
    items: list[RescoreRun]
    next_cursor: str | None = None


@router.get("/api/v1/scoring/runs", response_model=RescoreRuns)
async def rescore_runs(session: SessionDep, limit: PageLimit = 20) -> RescoreRuns:
    """The portfolio rescorings (after each end of day and each change of live models),
    newest first, with their progress: loans done and scores that moved."""
    rows = await recent_runs(session, limit)
    return RescoreRuns(items=[RescoreRun.model_validate(r) for r in rows])


@router.get(
    "/api/v1/scoring/tiers",
    response_model=TierDistribution,
    responses={409: {"description": "No champion model yet"}},
)
async def tier_distribution(session: SessionDep) -> TierDistribution:
    """How the open loans spread over tiers A–E under the champion."""
    return TierDistribution.model_validate(await queries.tier_distribution(session))


def _history_cursor(cursor: str | None) -> int | None:
    key = decode_cursor(cursor)
    if key is None:
        return None
    if not (key.isascii() and key.isdigit()) or int(key) > INT8_MAX:
        raise invalid_cursor()
    return int(key)
