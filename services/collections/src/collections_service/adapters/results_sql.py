"""The counts behind strategy results, per version and variant, in one statement."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.cases_sql import CASE, TIMELINE
from collections_service.adapters.contacts_sql import ATTEMPT, DECISION


@dataclass(frozen=True, slots=True)
class ArmCounts:
    version: int
    variant: str | None
    cases: int
    closed: int
    cured: int
    rolled_forward: int
    contacts: int


async def arm_counts(session: AsyncSession, strategy_id: str) -> list[ArmCounts]:
    worse = (
        sa.select(sa.literal(1))
        .where(
            TIMELINE.c.case_id == CASE.c.case_id,
            TIMELINE.c.kind == "bucket_changed",
            TIMELINE.c.detail["to"].astext > TIMELINE.c.detail["from"].astext,  # M1 < M2 < …
            TIMELINE.c.detail["to"].astext != "C",
        )
        .exists()
    )
    contacts = (
        sa.select(sa.func.count())
        .select_from(ATTEMPT.join(DECISION, DECISION.c.decision_id == ATTEMPT.c.decision_id))
        .where(DECISION.c.case_id == CASE.c.case_id, ATTEMPT.c.status.not_in(("blocked", "failed")))
        .scalar_subquery()
    )
    query = (
        sa.select(
            CASE.c.strategy_version, CASE.c.variant, sa.func.count(),
            sa.func.count().filter(CASE.c.status == "closed"),
            sa.func.count().filter(CASE.c.close_reason == "cured"),
            sa.func.count().filter(worse), sa.func.coalesce(sa.func.sum(contacts), 0),
        )
        .where(CASE.c.strategy_id == strategy_id)
        .group_by(CASE.c.strategy_version, CASE.c.variant)
        .order_by(CASE.c.strategy_version, CASE.c.variant.nulls_first())
    )  # fmt: skip
    return [
        ArmCounts(int(v), variant, int(n), int(closed), int(cured), int(worse_n), int(contacted))
        for v, variant, n, closed, cured, worse_n, contacted in (await session.execute(query)).all()
    ]
