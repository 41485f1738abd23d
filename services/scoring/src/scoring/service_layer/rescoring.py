"""Rescoring loans under the live models: one path for single events and for the EOD batch.

Features come from the loans' histories as known on the business date; every live model
scores the whole set at once (vectorised). A loan's row is written when its score, tier or
features moved — its current score and a history row with the features it came from — and,
for the champion, a moved score or tier is announced by ``scoring.score.updated``. Reasons
are computed only for the rows written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters.histories import load_histories, lock_loans
from scoring.adapters.tables import Base, ScoreHistoryRow, ScoreRow
from scoring.domain.features import features_as_of
from scoring.domain.model import TIERS, FeatureValues, Scored, ServedModel, feature_matrix
from scoring.service_layer import SOURCE
from scoring.service_layer.registry import live_models
from shared.events import ReasonCode, ScoreUpdated, make_event
from shared.messaging.outbox import enqueue

SCORE = Base.metadata.tables[ScoreRow.__tablename__]
HISTORY = Base.metadata.tables[ScoreHistoryRow.__tablename__]
PD_PLACES = Decimal("0.0001")


Rescore = tuple[str, FeatureValues, Scored, date]  # loan, its features, its score, as of


@dataclass(frozen=True)
class Rescored:
    loans: int
    changed: int  # champion scores that moved (each announced by an event)


async def rescore(
    session: AsyncSession, loan_ids: Sequence[str], as_of: date, *, announce_all: bool = False
) -> Rescored:
    """Rescore ``loan_ids`` as of ``as_of`` under the champion and every challenger
    (``announce_all``: announce the champion's score of every loan, moved or not).

    A loan already scored as of a later date keeps that date: a score never goes back in
    time (a batch scheduled before the loan's latest events must not undo them).
    """
    live = await live_models(session)
    if not live.all or not loan_ids:
        return Rescored(0, 0)
    await lock_loans(session, loan_ids)  # before reading: what is read is then the latest
    histories = await load_histories(session, loan_ids)
    ids = [h.loan_id for h in histories]
    current, latest = await _stored_scores(session, ids)
    days = [max(as_of, latest.get(loan_id, as_of)) for loan_id in ids]
    values = [features_as_of(h, day) for h, day in zip(histories, days, strict=True)]
    keys = [features_key(v) for v in values]
    now = datetime.now(UTC)
    announced = 0
    for model in live.all:
        stored = [current.get((loan_id, model.version)) for loan_id in ids]
        champion = model is live.champion
        moved = set(range(len(ids))) if champion and announce_all else _moved(model, values, stored)
        # A row is written when the score or only the features moved (so each business
        # day's stored features are what a rebuild as of that day gives); only a moved
        # score or tier is announced.
        written = [i for i, s in enumerate(stored) if i in moved or s is None or s[2] != keys[i]]
        scored = [(ids[i], values[i], model.score(values[i]), days[i]) for i in written]
        await _write(session, model.version, scored, now)
        if champion:
            announce = [scored[n] for n, i in enumerate(written) if i in moved]
            await _announce(session, model.version, announce, now)
            announced = len(announce)
    return Rescored(len(ids), announced)


Stored = tuple[int, str, int]  # score, tier, features key


def features_key(values: FeatureValues) -> int:
    """A 63-bit digest of feature values (stable across processes, unlike ``hash``)."""
    text = repr(sorted(values.items())).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") >> 1


def _moved(
    model: ServedModel, values: Sequence[FeatureValues], stored: Sequence[Stored | None]
) -> set[int]:
    """Indexes of the loans whose score or tier under ``model`` differ from the stored ones."""
    pd, points = model.score_matrix(feature_matrix(values, model.features))
    scores = np.rint(points).astype(np.int64)
    tiers = model.tiers.tier_array(pd)
    return {
        i
        for i, s in enumerate(stored)
        if s is None or (s[0], s[1]) != (int(scores[i]), TIERS[int(tiers[i])])
    }


async def _stored_scores(
    session: AsyncSession, ids: list[str]
) -> tuple[dict[tuple[str, str], Stored], dict[str, date]]:
    """The loans' stored scores by (loan, model), and each loan's latest scoring date under
    any model, retired ones included (a model promoted back must not score a loan as of an
    older date than its successor did)."""
    rows = await session.execute(
        sa.select(
            SCORE.c.loan_id,
            SCORE.c.model_version,
            SCORE.c.score,
            SCORE.c.tier,
            SCORE.c.features_key,
            SCORE.c.as_of,
        ).where(SCORE.c.loan_id.in_(ids))
    )
    current: dict[tuple[str, str], Stored] = {}
    latest: dict[str, date] = {}
    for r in rows:
        current[(r.loan_id, r.model_version)] = (r.score, r.tier, r.features_key)
        latest[r.loan_id] = max(r.as_of, latest.get(r.loan_id, r.as_of))
    return current, latest


async def _write(
    session: AsyncSession,
    version: str,
    scored: Sequence[Rescore],
    now: datetime,
) -> None:
    if not scored:
        return
    rows = [_row(loan_id, version, values, s, day, now) for loan_id, values, s, day in scored]
    stmt = insert(SCORE)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["loan_id", "model_version"],
            set_={
                c: stmt.excluded[c]
                for c in (
                    "as_of",
                    "pd",
                    "score",
                    "tier",
                    "reasons",
                    "features",
                    "features_key",
                    "scored_at",
                )
            },
        ),
        rows,
    )
    await session.execute(
        insert(HISTORY), [{k: v for k, v in r.items() if k != "features_key"} for r in rows]
    )


def _row(
    loan_id: str, version: str, values: FeatureValues, s: Scored, as_of: date, now: datetime
) -> dict[str, Any]:
    return {
        "loan_id": loan_id,
        "model_version": version,
        "as_of": as_of,
        "pd": s.pd,
        "score": s.score,
        "tier": s.tier,
        "reasons": [
            {"code": r.code, "description": r.description, "points_lost": r.points_lost}
            for r in s.reasons
        ],
        "features": dict(values),
        "features_key": features_key(values),
        "scored_at": now,
    }


async def _announce(
    session: AsyncSession,
    version: str,
    scored: Sequence[Rescore],
    now: datetime,
) -> None:
    events = [
        make_event(
            ScoreUpdated(
                loan_id=loan_id,
                pd=Decimal(repr(s.pd)).quantize(PD_PLACES),
                score=s.score,
                tier=s.tier,
                model_version=version,
                reasons=[
                    ReasonCode(code=r.code, description=r.description, points_lost=r.points_lost)
                    for r in s.reasons
                ],
                scored_at=now,
            ),
            source=SOURCE,
            subject=loan_id,
        )
        for loan_id, _, s, _ in scored
    ]
    if events:
        await enqueue(session, events)
