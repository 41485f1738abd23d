"""Judging models on live loans: champion against challenger, and past scores against outcomes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters.histories import load_histories
from scoring.domain.features import add_months, max_dpd_between
from scoring.domain.labels import TargetDefinition
from scoring.domain.metrics import auc, ks
from scoring.service_layer.facts import business_date
from scoring.service_layer.registry import get_model
from shared.problems import Conflict, NotFound

CHUNK = 5000


async def compare(session: AsyncSession, champion: str, challenger: str) -> dict[str, Any]:
    """Both models' scores on the same open loans: averages, agreement and tier migration."""
    rows = (
        await session.execute(
            sa.text(
                """SELECT c.tier AS champion_tier, x.tier AS challenger_tier, count(*) AS n,
                          avg(c.pd) AS champion_pd, avg(x.pd) AS challenger_pd,
                          avg(abs(c.score - x.score)) AS mean_abs_score_difference
                   FROM score c JOIN score x ON x.loan_id = c.loan_id
                   JOIN loan_terms t ON t.loan_id = c.loan_id AND t.closed_on IS NULL
                   WHERE c.model_version = :c AND x.model_version = :x
                   GROUP BY c.tier, x.tier ORDER BY c.tier, x.tier"""
            ),
            {"c": champion, "x": challenger},
        )
    ).all()
    loans = sum(r.n for r in rows)
    if not loans:
        raise Conflict(f"no open loan is scored by both {champion} and {challenger} yet")

    def mean(column: str) -> float:
        return float(sum(getattr(r, column) * r.n for r in rows) / loans)

    return {
        "champion": champion,
        "challenger": challenger,
        "loans": loans,
        "mean_pd": {"champion": mean("champion_pd"), "challenger": mean("challenger_pd")},
        "mean_abs_score_difference": mean("mean_abs_score_difference"),
        "same_tier_share": sum(r.n for r in rows if r.champion_tier == r.challenger_tier) / loans,
        "tier_migration": [
            {"champion_tier": r.champion_tier, "challenger_tier": r.challenger_tier, "count": r.n}
            for r in rows
        ],
    }


async def backtest(
    session: AsyncSession, version: str, observed_on: date, target: TargetDefinition
) -> dict[str, Any]:
    """AUC and KS of the scores ``version`` gave on ``observed_on`` against what happened next:
    bad when the loan reached ``target.dpd_threshold`` DPD within the horizon."""
    if await get_model(session, version) is None:
        raise NotFound("model", version)
    horizon_end = add_months(observed_on, target.horizon_months)
    today = await business_date(session)
    if today is None or horizon_end > today:
        raise Conflict(
            f"outcomes of {observed_on} are known from {horizon_end} "
            f"(business date: {today}); choose an earlier observation date"
        )
    scored = await _scores_on(session, version, observed_on)
    if not scored:
        raise Conflict(f"model {version} had scored no loan by {observed_on}")
    pds, bads = await _outcomes(session, scored, observed_on, horizon_end, target)
    result: dict[str, Any] = {
        "model_version": version,
        "observed_on": observed_on,
        "outcomes_until": horizon_end,
        "target": {"dpd_threshold": target.dpd_threshold, "horizon_months": target.horizon_months},
        "loans": int(bads.size),
        "bads": int(bads.sum()),
    }
    if 0 < bads.sum() < bads.size:
        result |= {"auc": auc(bads, pds), "ks": ks(bads, pds)}
    else:
        result |= {"auc": None, "ks": None, "note": "outcomes have one class only"}
    return result


async def _scores_on(session: AsyncSession, version: str, day: date) -> dict[str, float]:
    """Each loan's PD under ``version`` as it stood on ``day`` (its last change by then)."""
    rows = await session.execute(
        sa.text(
            """SELECT DISTINCT ON (loan_id) loan_id, pd FROM score_history
               WHERE model_version = :v AND as_of <= :day
               ORDER BY loan_id, id DESC"""
        ),
        {"v": version, "day": day},
    )
    return {r.loan_id: r.pd for r in rows}


async def _outcomes(
    session: AsyncSession,
    scored: dict[str, float],
    observed_on: date,
    horizon_end: date,
    target: TargetDefinition,
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.int64]]]:
    ids = sorted(scored)
    pds: list[float] = []
    bads: list[int] = []
    for start in range(0, len(ids), CHUNK):
        for history in await load_histories(session, ids[start : start + CHUNK]):
            worst = max_dpd_between(
                history.as_known_on(horizon_end), observed_on + timedelta(days=1), horizon_end
            )
            pds.append(scored[history.loan_id])
            bads.append(int(worst >= target.dpd_threshold))
    return np.array(pds, dtype=np.float64), np.array(bads, dtype=np.int64)
