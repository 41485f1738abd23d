"""Read-side use cases of scores: current score, history, features as of a date, tiers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters.histories import load_histories
from scoring.domain.features import features_as_of as compute_features
from scoring.domain.model import TIERS
from scoring.service_layer.batch import RUN
from scoring.service_layer.facts import TERMS, business_date
from scoring.service_layer.registry import champion_version
from scoring.service_layer.rescoring import HISTORY, PD_PLACES, SCORE
from shared.problems import Conflict, NotFound, Problem


def _pd(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(PD_PLACES)


async def _known_loan(session: AsyncSession, loan_id: str) -> None:
    if await session.scalar(sa.select(TERMS.c.loan_id).where(TERMS.c.loan_id == loan_id)) is None:
        raise NotFound("loan", loan_id)


async def _champion(session: AsyncSession) -> str:
    version = await champion_version(session)
    if version is None:
        raise Conflict(
            "no champion model is live yet: register a model and promote it "
            "(POST /api/v1/scoring/models, then POST /api/v1/scoring/models/{version}/promote)"
        )
    return version


async def current_score(session: AsyncSession, loan_id: str) -> dict[str, Any]:
    await _known_loan(session, loan_id)
    champion = await _champion(session)
    rows = (
        (await session.execute(sa.select(SCORE).where(SCORE.c.loan_id == loan_id))).mappings().all()
    )
    mine = next((r for r in rows if r["model_version"] == champion), None)
    if mine is None:
        raise NotFound("score of loan", f"{loan_id} under model {champion}")
    checked = await session.scalar(
        sa.select(sa.func.max(RUN.c.as_of)).where(RUN.c.status == "completed")
    )
    return dict(mine) | {
        "pd": _pd(mine["pd"]),
        # A completed run took every loan whose features could move: the others' scores held.
        "checked_on": max(mine["as_of"], checked or mine["as_of"]),
        "challengers": [
            dict(r) | {"pd": _pd(r["pd"])} for r in rows if r["model_version"] != champion
        ],
    }


async def score_history(
    session: AsyncSession,
    loan_id: str,
    model_version: str | None,
    *,
    before: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    await _known_loan(session, loan_id)
    version = model_version or await _champion(session)
    query = (
        sa.select(HISTORY)
        .where(HISTORY.c.loan_id == loan_id, HISTORY.c.model_version == version)
        .order_by(HISTORY.c.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(HISTORY.c.id < before)
    rows = (await session.execute(query)).mappings().all()
    return [dict(r) | {"pd": _pd(r["pd"])} for r in rows]


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


async def tier_distribution(session: AsyncSession) -> dict[str, Any]:
    champion = await _champion(session)
    rows = await session.execute(
        sa.text(
            """SELECT s.tier, count(*) AS n, avg(s.pd) AS mean_pd
               FROM score s JOIN loan_terms t USING (loan_id)
               WHERE s.model_version = :v AND t.closed_on IS NULL
               GROUP BY s.tier"""
        ),
        {"v": champion},
    )
    found = {r.tier: r for r in rows}
    total = sum(r.n for r in found.values())
    return {
        "model_version": champion,
        "business_date": await business_date(session),
        "total": total,
        "tiers": [
            {
                "tier": t,
                "count": found[t].n if t in found else 0,
                "share": found[t].n / total if t in found else 0.0,
                "mean_pd": _pd(found[t].mean_pd) if t in found else None,
            }
            for t in TIERS
        ],
    }
