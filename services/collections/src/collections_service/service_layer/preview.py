"""Strategy preview: which open cases a strategy version would put in which segment and
variant today, and how many per segment. One set-based statement (``adapters/preview_sql``);
it changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import preview_sql
from collections_service.service_layer.documents import strategy_version
from collections_service.service_layer.treatment import load_strategy
from shared.problems import NotFound


@dataclass(frozen=True, slots=True)
class SegmentCount:
    segment: str | None  # None: no segment matches (collectors work these by hand)
    variant: str | None
    count: int
    loans: list[str]  # a sample, in loan id order


async def preview(
    session: AsyncSession, strategy_id: str, version: int, sample: int
) -> list[SegmentCount]:
    await strategy_version(session, strategy_id, version)  # 404 when unknown
    strategy = await load_strategy(session, strategy_id, version)
    if strategy is None:
        raise NotFound("strategy version", f"{strategy_id} v{version}")
    rows = await preview_sql.segment_counts(session, strategy, strategy_id, version, sample)
    return [SegmentCount(r.segment, r.variant, r.count, r.loans) for r in rows]
