"""SQL of scores: each loan's current score per model, their history, and the portfolio's
aggregates the read side and the evaluations ask for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters.tables import Base, ScoreHistoryRow, ScoreRow
from scoring.domain.json_object import JsonObject
from shared.db import driver_connection

SCORE = Base.metadata.tables[ScoreRow.__tablename__]
HISTORY = Base.metadata.tables[ScoreHistoryRow.__tablename__]


@dataclass(frozen=True)
class ScoreRecord:
    """A score as stored, current (``id`` None) or in the history (``features_key`` None)."""

    loan_id: str
    model_version: str
    as_of: date
    pd: float
    score: int
    tier: str
    reasons: list[JsonObject]  # {"code", "description", "points_lost"}
    features: dict[str, float | None]
    scored_at: datetime
    id: int | None = None
    features_key: int | None = None


@dataclass(frozen=True)
class TierCount:
    tier: str
    n: int
    mean_pd: float


@dataclass(frozen=True)
class TierPair:
    """Open loans in one champion tier and one challenger tier, with their averages."""

    champion_tier: str
    challenger_tier: str
    n: int
    champion_pd: float
    challenger_pd: float
    mean_abs_score_difference: float


async def scores_of(session: AsyncSession, loan_id: str) -> list[ScoreRecord]:
    """The loan's current score under each model that scored it."""
    rows = await session.execute(sa.select(SCORE).where(SCORE.c.loan_id == loan_id))
    return [ScoreRecord(**r) for r in rows.mappings()]


async def history_of(
    session: AsyncSession, loan_id: str, version: str, *, before: int | None, limit: int
) -> list[ScoreRecord]:
    """The loan's score changes under ``version``, newest first, before the id ``before``."""
    query = (
        sa.select(HISTORY)
        .where(HISTORY.c.loan_id == loan_id, HISTORY.c.model_version == version)
        .order_by(HISTORY.c.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(HISTORY.c.id < before)
    return [ScoreRecord(**r) for r in (await session.execute(query)).mappings()]


async def tier_counts(session: AsyncSession, version: str) -> list[TierCount]:
    """Open loans per tier under ``version``, with their mean PD."""
    rows = await session.execute(
        sa.text(
            """SELECT s.tier, count(*) AS n, avg(s.pd) AS mean_pd
               FROM score s JOIN loan_terms t USING (loan_id)
               WHERE s.model_version = :v AND t.closed_on IS NULL
               GROUP BY s.tier"""
        ),
        {"v": version},
    )
    return [TierCount(r.tier, r.n, r.mean_pd) for r in rows]


async def tier_pairs(session: AsyncSession, champion: str, challenger: str) -> list[TierPair]:
    """Both models' scores on the same open loans, by pair of tiers."""
    rows = await session.execute(
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
    return [TierPair(**r) for r in rows.mappings()]


async def pds_on(session: AsyncSession, version: str, day: date) -> dict[str, float]:
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


#: A loan's stored score under one model, for comparing: (loan, model, score, tier,
#: features key, as of).
StoredKey = tuple[str, str, int, str, int, date]


async def stored_keys(session: AsyncSession, ids: Sequence[str]) -> list[StoredKey]:
    """The loans' stored scores under every model, retired ones included."""
    # Plain SQL: every rescoring asks (shared.db.driver_connection says why).
    raw = await driver_connection(session)
    rows = await raw.fetch(
        "SELECT loan_id, model_version, score, tier, features_key, as_of FROM score "
        "WHERE loan_id = ANY($1::text[])",
        list(ids),
    )
    # Records unpack as tuples: no copy of each row on this hot path.
    found: list[StoredKey] = rows
    return found


# One array per column, parsed once for both tables: one round trip for any number of rows.
_WRITE = """
WITH new AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::float8[], $5::int[],
                         $6::text[], $7::jsonb[], $8::jsonb[], $9::int8[], $10::timestamptz[])
        AS n(loan_id, model_version, as_of, pd, score, tier, reasons, features, features_key,
             scored_at)
), current AS (
    INSERT INTO score (loan_id, model_version, as_of, pd, score, tier, reasons, features,
                       features_key, scored_at)
    SELECT * FROM new
    ON CONFLICT (loan_id, model_version) DO UPDATE SET
        as_of = excluded.as_of, pd = excluded.pd, score = excluded.score, tier = excluded.tier,
        reasons = excluded.reasons, features = excluded.features,
        features_key = excluded.features_key, scored_at = excluded.scored_at
)
INSERT INTO score_history (loan_id, model_version, as_of, pd, score, tier, reasons, features,
                           scored_at)
SELECT loan_id, model_version, as_of, pd, score, tier, reasons, features, scored_at FROM new
"""


@dataclass(frozen=True)
class ScoreColumns:
    """Scores to write, one list per column (JSON as text, as the driver's codec takes it)."""

    loan_ids: list[str]
    versions: list[str]
    days: list[date]
    pds: list[float]
    scores: list[int]
    tiers: list[str]
    reasons: list[str]
    features: list[str]
    keys: list[int]
    times: list[datetime]


async def write_scores(session: AsyncSession, c: ScoreColumns) -> None:
    """Upsert the loans' current scores and add them to the history, in one statement."""
    conn = await driver_connection(session)
    await conn.execute(
        _WRITE,
        c.loan_ids,
        c.versions,
        c.days,
        c.pds,
        c.scores,
        c.tiers,
        c.reasons,
        c.features,
        c.keys,
        c.times,
    )
