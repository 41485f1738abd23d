"""Per case of a strategy: what it recovered and what its contacts cost, in one statement."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.cases_sql import CASE
from collections_service.adapters.contacts_sql import ATTEMPT, DECISION
from collections_service.adapters.recoveries_sql import RECOVERY


@dataclass(frozen=True, slots=True)
class CaseAmounts:
    version: int
    variant: str | None
    recovered: Decimal
    contact_cost: Decimal


async def case_amounts(
    session: AsyncSession, strategy_id: str, costs: Mapping[str, Decimal]
) -> list[CaseAmounts]:
    """Every case of the strategy: payments booked while it was open, and the cost of its
    contacts made (not blocked or failed) at ``costs`` per channel (a channel not listed: 0)."""
    price = sa.case(
        {channel: sa.literal(cost, sa.Numeric(18, 4)) for channel, cost in costs.items()},
        value=ATTEMPT.c.channel,
        else_=sa.literal(Decimal(0), sa.Numeric(18, 4)),
    ) if costs else sa.literal(Decimal(0), sa.Numeric(18, 4))  # fmt: skip
    cost = (
        sa.select(sa.func.coalesce(sa.func.sum(price), 0))
        .select_from(ATTEMPT.join(DECISION, DECISION.c.decision_id == ATTEMPT.c.decision_id))
        .where(DECISION.c.case_id == CASE.c.case_id, ATTEMPT.c.status.not_in(("blocked", "failed")))
        .scalar_subquery()
    )
    recovered = (
        sa.select(sa.func.coalesce(sa.func.sum(RECOVERY.c.amount), 0))
        .where(RECOVERY.c.case_id == CASE.c.case_id)
        .scalar_subquery()
    )
    query = (
        sa.select(CASE.c.strategy_version, CASE.c.variant, recovered, cost)
        .where(CASE.c.strategy_id == strategy_id)
        .order_by(CASE.c.strategy_version, CASE.c.variant.nulls_first(), CASE.c.case_id)
    )
    rows = (await session.execute(query)).all()
    return [CaseAmounts(int(v), variant, Decimal(r), Decimal(c)) for v, variant, r, c in rows]
