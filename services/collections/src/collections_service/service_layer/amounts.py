"""Strategy results in money: amount recovered and contact cost per case, per version and
variant, each with its bootstrap 95% interval (seeded: the same data give the same answer)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import amounts_sql
from collections_service.domain.bootstrap import AmountInterval, cents, mean_interval
from collections_service.service_layer.clock import Context
from collections_service.service_layer.documents import strategies
from shared.problems import NotFound


@dataclass(frozen=True, slots=True)
class ArmAmounts:
    version: int
    variant: str | None
    recovered: AmountInterval
    contact_cost: AmountInterval


async def amounts(session: AsyncSession, strategy_id: str, ctx: Context) -> list[ArmAmounts]:
    if not await strategies(session, strategy_id):
        raise NotFound("strategy", strategy_id)
    rows = await amounts_sql.case_amounts(session, strategy_id, ctx.contact_costs)
    answer = []
    for (version, variant), group in groupby(rows, key=lambda r: (r.version, r.variant)):
        arm = list(group)
        seed = f"{ctx.results_seed}|{strategy_id}|{version}|{variant}"
        answer.append(ArmAmounts(
            version, variant,
            mean_interval([cents(r.recovered) for r in arm], f"{seed}|recovered"),
            mean_interval([cents(r.contact_cost) for r in arm], f"{seed}|cost"),
        ))  # fmt: skip
    return answer
