"""Storing loans' feature segments and finding the loans whose features move on a day.

Raw asyncpg on the session's connection, set-based: the nightly batch handles tens of
thousands of loans a chunk, and these are its only reads besides the stored scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scoring.domain.timeline import Segment
from shared.db import driver_connection

_COLUMNS = ["loan_id", "starts_on", "features", "ticks"]

# Each loan's segment of its day: the later of the run's day and the day it was last
# evaluated (a score never goes back in time).
_ON = """
SELECT t.loan_id, d.day, s.starts_on, s.features, s.ticks
FROM loan_terms t
CROSS JOIN LATERAL (SELECT greatest($2::date, t.features_on) AS day) d
LEFT JOIN LATERAL (
    SELECT starts_on, features, ticks FROM feature_segment s
    WHERE s.loan_id = t.loan_id AND s.starts_on <= d.day ORDER BY starts_on DESC LIMIT 1
) s ON true
WHERE t.loan_id = ANY($1::text[])
ORDER BY t.loan_id
"""


@dataclass(frozen=True, slots=True)
class SegmentOn:
    """A loan's segment on ``day`` (None: it has none)."""

    loan_id: str
    day: date
    segment: Segment | None

    @property
    def ticks(self) -> bool:
        return self.segment is not None and self.segment.ticks


# A loan evaluated on a day, and the first later day on which DPD growing alone moves a live
# model's score or tier (None: not before its next segment).
Evaluated = tuple[str, date, date | None]


async def segments_on(session: AsyncSession, loan_ids: Sequence[str], day: date) -> list[SegmentOn]:
    raw = await driver_connection(session)
    rows = await raw.fetch(_ON, list(loan_ids), day)
    return [_segment_on(r) for r in rows]


def _segment_on(row: Any) -> SegmentOn:
    segment = None if row[2] is None else Segment(row[2], _values(row[3]), row[4])
    return SegmentOn(row[0], row[1], segment)


def _values(stored: list[float | None] | None) -> tuple[float | None, ...] | None:
    return None if stored is None else tuple(stored)


async def save_timelines(
    session: AsyncSession, timelines: dict[str, list[Segment]], evaluated: Sequence[Evaluated]
) -> None:
    """Replace the segments of the loans in ``timelines``, built on the days of ``evaluated``."""
    if not timelines:
        return
    raw = await driver_connection(session)
    ids = list(timelines)
    await raw.execute("DELETE FROM feature_segment WHERE loan_id = ANY($1::text[])", ids)
    await raw.copy_records_to_table(
        "feature_segment",
        records=[
            (loan_id, s.starts_on, None if s.values is None else list(s.values), s.ticks)
            for loan_id, segments in timelines.items()
            for s in segments
        ],
        columns=_COLUMNS,
    )
    await mark_evaluated(session, evaluated)


async def mark_evaluated(session: AsyncSession, evaluated: Sequence[Evaluated]) -> None:
    """Note the day each loan was evaluated and the day the nightly batch must take it next:
    when its next segment starts, or earlier when DPD growing moves a score."""
    if not evaluated:
        return
    raw = await driver_connection(session)
    loan_ids, days, moves = zip(*evaluated, strict=True)
    await raw.execute(
        """UPDATE loan_terms t
           SET features_on = e.day, features_change_on = least(e.move_on, (
               SELECT min(starts_on) FROM feature_segment s
               WHERE s.loan_id = e.loan_id AND s.starts_on > e.day))
           FROM unnest($1::text[], $2::date[], $3::date[]) AS e(loan_id, day, move_on)
           WHERE t.loan_id = e.loan_id""",
        list(loan_ids),
        list(days),
        list(moves),
    )


async def loans_moving_on(session: AsyncSession, day: date, *, after: str, limit: int) -> list[str]:
    """The next ``limit`` open loans after ``after`` to take on ``day``: a new segment
    starts, a score moves with DPD, or they were never evaluated."""
    raw = await driver_connection(session)
    rows = await raw.fetch(
        """SELECT loan_id FROM loan_terms
           WHERE (features_change_on <= $1 OR features_change_on IS NULL)
             AND closed_on IS NULL AND loan_id > $2
           ORDER BY loan_id LIMIT $3""",
        day,
        after,
        limit,
    )
    return [r[0] for r in rows]
