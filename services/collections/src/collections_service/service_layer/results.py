"""Strategy results per version and variant: cure and roll-forward rates with Wilson
intervals, contacts per case, and each challenger's uplift in cure rate over the champion."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import results_sql
from collections_service.adapters.results_sql import ArmCounts
from collections_service.domain.results import Rate, Uplift, uplift, wilson
from collections_service.service_layer.documents import strategies
from shared.problems import NotFound

CHAMPION = "champion"


@dataclass(frozen=True, slots=True)
class ArmResult:
    counts: ArmCounts
    cure: Rate
    roll_forward: Rate
    contacts_per_case: float | None
    cure_uplift: Uplift | None  # against the champion of the same version


async def results(session: AsyncSession, strategy_id: str) -> list[ArmResult]:
    if not await strategies(session, strategy_id):
        raise NotFound("strategy", strategy_id)
    arms = await results_sql.arm_counts(session, strategy_id)
    champions = {a.version: wilson(a.cured, a.cases) for a in arms if a.variant == CHAMPION}
    return [
        ArmResult(
            a, wilson(a.cured, a.cases), wilson(a.rolled_forward, a.cases),
            a.contacts / a.cases if a.cases else None,
            uplift(wilson(a.cured, a.cases), champions[a.version])
            if a.variant not in (CHAMPION, None) and a.version in champions else None,
        )
        for a in arms
    ]  # fmt: skip
