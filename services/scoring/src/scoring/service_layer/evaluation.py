"""Judging models on live loans: champion against challenger, and past scores against outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters import scores_sql
from scoring.adapters.histories import load_histories
from scoring.domain.features import add_months, max_dpd_between
from scoring.domain.labels import TargetDefinition
from scoring.domain.metrics import auc, ks
from scoring.service_layer.facts import business_date
from scoring.service_layer.registry import get_model
from shared.problems import Conflict, NotFound

CHUNK = 5000


@dataclass(frozen=True)
class MeanPd:
    champion: float
    challenger: float


@dataclass(frozen=True)
class TierMigration:
    champion_tier: str
    challenger_tier: str
    count: int


@dataclass(frozen=True)
class Comparison:
    champion: str
    challenger: str
    loans: int
    mean_pd: MeanPd
    mean_abs_score_difference: float
    same_tier_share: float
    tier_migration: list[TierMigration]


@dataclass(frozen=True)
class Backtest:
    """How well a model's past scores ranked the loans that went bad after them."""

    model_version: str
    observed_on: date
    outcomes_until: date
    target: TargetDefinition
    loans: int
    bads: int
    auc: float | None
    ks: float | None
    note: str | None = None


async def compare(session: AsyncSession, champion: str, challenger: str) -> Comparison:
    """Both models' scores on the same open loans: averages, agreement and tier migration."""
    rows = await scores_sql.tier_pairs(session, champion, challenger)
    loans = sum(r.n for r in rows)
    if not loans:
        raise Conflict(f"no open loan is scored by both {champion} and {challenger} yet")

    def mean(column: str) -> float:
        return float(sum(getattr(r, column) * r.n for r in rows) / loans)

    return Comparison(
        champion=champion,
        challenger=challenger,
        loans=loans,
        mean_pd=MeanPd(champion=mean("champion_pd"), challenger=mean("challenger_pd")),
        mean_abs_score_difference=mean("mean_abs_score_difference"),
        same_tier_share=sum(r.n for r in rows if r.champion_tier == r.challenger_tier) / loans,
        tier_migration=[TierMigration(r.champion_tier, r.challenger_tier, r.n) for r in rows],
    )


async def backtest(
    session: AsyncSession, version: str, observed_on: date, target: TargetDefinition
) -> Backtest:
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
    scored = await scores_sql.pds_on(session, version, observed_on)
    if not scored:
        raise Conflict(f"model {version} had scored no loan by {observed_on}")
    pds, bads = await _outcomes(session, scored, observed_on, horizon_end, target)
    loans, bad = int(bads.size), int(bads.sum())
    both = 0 < bad < loans
    return Backtest(
        model_version=version,
        observed_on=observed_on,
        outcomes_until=horizon_end,
        target=target,
        loans=loans,
        bads=bad,
        auc=auc(bads, pds) if both else None,
        ks=ks(bads, pds) if both else None,
        note=None if both else "outcomes have one class only",
    )


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
