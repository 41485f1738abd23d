"""Moving loans' scores on to a new business day from their feature segments, vectorised.

After an end of day most loans' features have not moved, and those that have moved as their
segments say (``domain.timeline``): the day's segment, grown by the days since it started,
is the loan's features. They are scored as one matrix under every live model; a row is
written when a score or tier moves (or a model has none yet). Loans without a segment for
the day — never evaluated, or past the end of their segments — are rescored from their
histories instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters.histories import lock_loans
from scoring.adapters.segments import SegmentOn, mark_evaluated, segments_on
from scoring.domain.model import FeatureValues, FloatArray, ServedModel
from scoring.domain.timeline import (
    DPD_NOW,
    advance,
    as_mapping,
    first_moves,
    model_columns,
    rows_of,
)
from scoring.service_layer.registry import live_models
from scoring.service_layer.rescoring import (
    ANNOUNCE_MOVES,
    Announcing,
    Batch,
    Rescored,
    rescore,
    score_live,
    stored_scores,
)


async def move_on(
    session: AsyncSession,
    loan_ids: Sequence[str],
    as_of: date,
    *,
    announcing: Announcing = ANNOUNCE_MOVES,
) -> Rescored:
    """Score ``loan_ids`` as of ``as_of`` (each no earlier than its last evaluation)."""
    live = await live_models(session)
    if not live.all or not loan_ids:
        return Rescored(0, 0)
    await lock_loans(session, loan_ids)
    found = await segments_on(session, loan_ids, as_of)
    readable = [f for f in found if f.segment is not None and f.segment.values is not None]
    known = {f.loan_id for f in readable}
    missing = [f.loan_id for f in found if f.loan_id not in known]
    rebuilt = (
        await rescore(session, missing, as_of, announcing=announcing) if missing else Rescored(0, 0)
    )
    if not readable:
        return rebuilt
    grown = _grown(readable)
    current, _ = await stored_scores(session, [f.loan_id for f in readable])
    rows = rows_of(grown)

    def values(i: int) -> FeatureValues:
        return as_mapping(rows[i])

    def matrix(model: ServedModel) -> FloatArray:
        return model_columns(grown, model.features)

    ids, days = [f.loan_id for f in readable], [f.day for f in readable]
    announced = await score_live(
        session,
        live,
        Batch(ids, days, values, matrix, grown[:, DPD_NOW]),
        current,
        announcing=announcing,
    )
    moves = first_moves(live.all, grown, np.array([f.ticks for f in readable]), days)
    await mark_evaluated(session, list(zip(ids, days, moves, strict=True)))
    return Rescored(rebuilt.loans + len(readable), rebuilt.changed + announced)


def _grown(found: Sequence[SegmentOn]) -> FloatArray:
    """Each loan's features on its day: its segment's values moved on by the days since."""
    starts = [f.segment.starts_on for f in found if f.segment is not None]
    rows = [f.segment.values for f in found if f.segment is not None]
    matrix = np.array(rows, dtype=np.float64)  # None (missing) becomes NaN
    days = [(f.day - start).days for f, start in zip(found, starts, strict=True)]
    return advance(matrix, days, np.array([f.ticks for f in found]))
