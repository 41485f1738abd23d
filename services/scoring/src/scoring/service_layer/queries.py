"""Read-side use cases of scores: current score, history, features as of a date, tiers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters import facts_sql, runs_sql, scores_sql
from scoring.adapters.histories import load_histories
from scoring.adapters.scores_sql import ScoreRecord
from scoring.domain.features import features_as_of as compute_features
from scoring.domain.json_object import JsonObject
from scoring.domain.model import TIERS
from scoring.service_layer.facts import business_date
from scoring.service_layer.registry import champion_version
from scoring.service_layer.rescoring import PD_PLACES
from shared.problems import Conflict, NotFound, Problem


@dataclass(frozen=True)
class ShadowScore:
    """A challenger's score of the loan."""

    model_version: str
    pd: Decimal
    score: int
    tier: str
    as_of: date


@dataclass(frozen=True)
class ScoreChange:
    """A score as read: its PD in the published precision."""

    id: int | None
    loan_id: str
    model_version: str
    pd: Decimal
    score: int
    tier: str
    reasons: list[JsonObject]
    features: dict[str, float | None]
    as_of: date
    scored_at: datetime


@dataclass(frozen=True)
class CurrentScore(ScoreChange):
    """The champion's score of a loan, the last date it held on, and the shadow scores."""

    checked_on: date
    challengers: list[ShadowScore]


@dataclass(frozen=True)
class TierShare:
    tier: str
    count: int
    share: float
    mean_pd: Decimal | None


@dataclass(frozen=True)
class TierDistribution:
    model_version: str
    business_date: date | None
    total: int
    tiers: list[TierShare]


def _pd(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(PD_PLACES)


def _change(r: ScoreRecord) -> ScoreChange:
    return ScoreChange(
        r.id,
        r.loan_id,
        r.model_version,
        _pd(r.pd),
        r.score,
        r.tier,
        r.reasons,
        r.features,
        r.as_of,
        r.scored_at,
    )


async def _known_loan(session: AsyncSession, loan_id: str) -> None:
    if not await facts_sql.is_known(session, loan_id):
        raise NotFound("loan", loan_id)


async def _champion(session: AsyncSession) -> str:
    version = await champion_version(session)
    if version is None:
        raise Conflict(
            "no champion model is live yet: register a model and promote it "
            "(POST /api/v1/scoring/models, then POST /api/v1/scoring/models/{version}/promote)"
        )
    return version


async def current_score(session: AsyncSession, loan_id: str) -> CurrentScore:
    await _known_loan(session, loan_id)
    champion = await _champion(session)
    rows = await scores_sql.scores_of(session, loan_id)
    mine = next((r for r in rows if r.model_version == champion), None)
    if mine is None:
        raise NotFound("score of loan", f"{loan_id} under model {champion}")
    checked = await runs_sql.last_completed_as_of(session)
    return CurrentScore(
        **vars(_change(mine)),
        # A completed run took every loan whose features could move: the others' scores held.
        checked_on=max(mine.as_of, checked or mine.as_of),
        challengers=[
            ShadowScore(r.model_version, _pd(r.pd), r.score, r.tier, r.as_of)
            for r in rows
            if r.model_version != champion
        ],
    )


async def score_history(
    session: AsyncSession,
    loan_id: str,
    model_version: str | None,
    *,
    before: int | None,
    limit: int,
) -> list[ScoreChange]:
    await _known_loan(session, loan_id)
    version = model_version or await _champion(session)
    rows = await scores_sql.history_of(session, loan_id, version, before=before, limit=limit)
    return [_change(r) for r in rows]


async def features_as_of(
    session: AsyncSession, loan_id: str, as_of: date | None
) -> tuple[date, dict[str, float | None]]:
    """The features of a loan rebuilt from what was known on ``as_of``."""
    today = await business_date(session)
    day = as_of or today
    if day is None:
        raise Conflict("no business date is known yet: pass as_of")
    if today is not None and day > today:
        raise Problem(422, "Invalid request", f"as_of: {day} is after the business date {today}")
    histories = await load_histories(session, [loan_id])
    if not histories:
        raise NotFound("loan", loan_id)
    return day, compute_features(histories[0].as_known_on(day), day)


async def tier_distribution(session: AsyncSession) -> TierDistribution:
    champion = await _champion(session)
    found = {r.tier: r for r in await scores_sql.tier_counts(session, champion)}
    total = sum(r.n for r in found.values())
    return TierDistribution(
        model_version=champion,
        business_date=await business_date(session),
        total=total,
        tiers=[
            TierShare(
                tier=t,
                count=found[t].n if t in found else 0,
                share=found[t].n / total if t in found else 0.0,
                mean_pd=_pd(found[t].mean_pd) if t in found else None,
            )
            for t in TIERS
        ],
    )
