"""The preview's one statement: open cases of the strategy's products, by segment and variant."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.cases_sql import CASE, LOAN, STATE
from collections_service.adapters.segment_sql import SnapshotColumns, segment_of, variant_of
from collections_service.domain.strategy import Strategy


@dataclass(frozen=True, slots=True)
class CountRow:
    segment: str | None
    variant: str | None
    count: int
    loans: list[str]


async def segment_counts(
    session: AsyncSession, strategy: Strategy, strategy_id: str, version: int, sample: int
) -> list[CountRow]:
    columns = SnapshotColumns(
        key=sa.cast(CASE.c.case_id, sa.Text),  # the engine draws variants by case id
        bucket=CASE.c.bucket,
        dpd=CASE.c.dpd,
        outstanding=sa.func.coalesce(STATE.c.outstanding, LOAN.c.principal),
        tier=CASE.c.tier,
        quadrant=CASE.c.quadrant,
    )
    chosen = (
        sa.select(
            CASE.c.loan_id,
            segment_of(strategy, columns).label("segment"),
            variant_of(strategy, strategy_id=strategy_id, version=version, c=columns).label(
                "variant"
            ),
        )
        .join(LOAN, LOAN.c.loan_id == CASE.c.loan_id)
        .outerjoin(STATE, STATE.c.loan_id == CASE.c.loan_id)
        .where(CASE.c.status == "open", LOAN.c.product.in_(sorted(strategy.products)))
        .subquery()
    )
    loans = sa.func.array_agg(aggregate_order_by(chosen.c.loan_id, chosen.c.loan_id))
    query = (
        sa.select(
            chosen.c.segment,
            chosen.c.variant,
            sa.func.count(),
            sa.type_coerce(loans, sa.ARRAY(sa.Text))[1:sample],
        )
        .group_by(chosen.c.segment, chosen.c.variant)
        .order_by(chosen.c.segment.nulls_last(), chosen.c.variant.nulls_first())
    )
    rows = (await session.execute(query)).all()
    return [CountRow(seg, var, int(n), list(ids or [])) for seg, var, n, ids in rows]
