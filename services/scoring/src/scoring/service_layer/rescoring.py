"""Rescoring loans under the live models: one path for single events and for the EOD batch.

Features come from the loans' histories as known on the business date; every live model
scores the whole set at once (vectorised). A loan's row is written when its score, tier or
features moved — its current score and a history row with the features it came from — and,
for the champion, a moved score or tier is announced by ``scoring.score.updated``. Reasons
are computed only for the rows written.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters import scores_sql
from scoring.adapters.histories import load_histories, lock_loans
from scoring.adapters.scores_sql import ScoreColumns
from scoring.adapters.segments import save_timelines
from scoring.domain.default import score_or_default, scores_and_tiers_of
from scoring.domain.model import (
    TIERS,
    FeatureValues,
    FloatArray,
    Scored,
    ServedModel,
)
from scoring.domain.timeline import DPD_NOW, as_mapping, first_moves, model_columns, timeline
from scoring.service_layer import SOURCE
from scoring.service_layer.registry import LiveModels, live_models
from shared.events import CloudEvent, ReasonCode, ScoreUpdated, make_event
from shared.messaging.outbox import enqueue

PD_PLACES = Decimal("0.0001")
BATCH_EVENTS = uuid.uuid5(uuid.NAMESPACE_URL, "postloan/scoring/batch-announcements")


Rescore = tuple[str, FeatureValues, Scored, date]  # loan, its features, its score, as of


@dataclass(frozen=True)
class Announcing:
    """Which of the champion's scores a rescoring announces, and under which event ids."""

    every_score: bool = False  # every loan's, moved or not (after a change of champion)
    # A batch run's: its events' ids derive from the run, the loan and the model, so a step
    # redone after PostgreSQL lost its commit announces again under the same ids, which
    # JetStream and every consumer's inbox drop. Elsewhere each event gets a new id.
    run_id: str | None = None

    def event_id(self, loan_id: str, version: str) -> uuid.UUID | None:
        if self.run_id is None:
            return None
        return uuid.uuid5(BATCH_EVENTS, f"{self.run_id}/{loan_id}/{version}")


ANNOUNCE_MOVES = Announcing()  # the moved scores, each under a new event id


@dataclass(frozen=True)
class Rescored:
    loans: int
    changed: int  # champion scores that moved (each announced by an event)


async def rescore_in_date_order(session: AsyncSession, marked: Mapping[date, set[str]]) -> None:
    """Rescore each business date's loans, dates in order, all loans locked first."""
    if not marked:
        return
    # All at once, in loan id order: per date they could be taken out of order.
    await lock_loans(session, sorted(set().union(*marked.values())))
    for as_of, loan_ids in sorted(marked.items()):
        await rescore(session, sorted(loan_ids), as_of)


async def rescore(
    session: AsyncSession,
    loan_ids: Sequence[str],
    as_of: date,
    *,
    announcing: Announcing = ANNOUNCE_MOVES,
) -> Rescored:
    """Rescore ``loan_ids`` from their histories as of ``as_of`` under the champion and every
    challenger (announcing the champion's moved scores, or all of them), and keep the
    segments of their features ahead for the nightly batch.

    A loan already scored as of a later date keeps that date: a score never goes back in
    time (a batch scheduled before the loan's latest events must not undo them).
    """
    live = await live_models(session)
    if not live.all or not loan_ids:
        return Rescored(0, 0)
    # Locked before reading: what is read is then the latest.
    evaluated = await lock_loans(session, loan_ids)
    histories = await load_histories(session, loan_ids)
    ids = [h.loan_id for h in histories]
    current, latest = await stored_scores(session, ids)
    days = [
        max(as_of, latest.get(loan_id, as_of), evaluated.get(loan_id) or as_of) for loan_id in ids
    ]
    timelines = [timeline(h, day) for h, day in zip(histories, days, strict=True)]
    firsts = [segments[0] for segments in timelines]  # the features of each loan's day
    values = [as_mapping(s.values or ()) for s in firsts]
    matrix = np.array([s.values for s in firsts], dtype=np.float64)
    keys = [features_key(v) for v in values]
    # A row is also written when only the features moved, so that each business day's
    # stored features are what a rebuild as of that day gives.
    announced = await score_live(
        session,
        live,
        Batch(
            ids,
            days,
            values.__getitem__,
            lambda m: model_columns(matrix, m.features),
            matrix[:, DPD_NOW],
        ),
        current,
        announcing=announcing,
        also_write=lambda i, stored: stored[2] != keys[i],
    )
    moves = first_moves(live.all, matrix, np.array([s.ticks for s in firsts]), days)
    await save_timelines(
        session, dict(zip(ids, timelines, strict=True)), list(zip(ids, days, moves, strict=True))
    )
    return Rescored(len(ids), announced)


@dataclass(frozen=True)
class Batch:
    """Loans to score: their ids, days, features one by one, the matrix a model reads and
    their days past due (``dpd_now``: a loan in default is not the model's to score)."""

    ids: Sequence[str]
    days: Sequence[date]
    values: Callable[[int], FeatureValues]
    matrix: Callable[[ServedModel], FloatArray]
    dpd: FloatArray


async def score_live(
    session: AsyncSession,
    live: LiveModels,
    batch: Batch,
    current: dict[tuple[str, str], Stored],
    *,
    announcing: Announcing,
    also_write: Callable[[int, Stored], bool] | None = None,
) -> int:
    """Score ``batch`` under every live model; write the rows whose score or tier moved (or
    that ``also_write`` picks), announce the champion's moves. Returns how many it announced."""
    now = datetime.now(UTC)
    announced = 0
    ids = batch.ids
    for model in live.all:
        stored = [current.get((loan_id, model.version)) for loan_id in ids]
        champion = model is live.champion
        moved = (
            set(range(len(ids)))
            if champion and announcing.every_score
            else _moved(model, batch.matrix(model), batch.dpd, stored)
        )
        written = [
            i
            for i, s in enumerate(stored)
            if i in moved or s is None or (also_write is not None and also_write(i, s))
        ]
        scored = [
            (ids[i], v, score_or_default(model, v), batch.days[i])
            for i in written
            for v in (batch.values(i),)
        ]
        # PostgreSQL writes the rows while this process builds the events (two cores busy,
        # not one after the other); nothing else may use the connection until it is done.
        writing = asyncio.ensure_future(_write(session, model.version, scored, now))
        try:
            await asyncio.sleep(0)  # the write's statement goes out (once prepared here)
            announce = [scored[n] for n, i in enumerate(written) if i in moved] if champion else []
            events = _events(model.version, announce, now, announcing)
        finally:
            await writing
        if champion:
            await enqueue(session, events)
            announced = len(events)
    return announced


Stored = tuple[int, str, int]  # score, tier, features key


def features_json(values: FeatureValues) -> str:
    return json.dumps(values, sort_keys=True)


def features_key(values: FeatureValues, text: str | None = None) -> int:
    """A 63-bit digest of feature values (stable across processes, unlike ``hash``), from
    their JSON when it is at hand."""
    digest = hashlib.blake2b((text or features_json(values)).encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") >> 1


def _moved(
    model: ServedModel, matrix: FloatArray, dpd: FloatArray, stored: Sequence[Stored | None]
) -> set[int]:
    """Indexes of the loans whose score or tier under ``model`` differ from the stored ones."""
    scores, tiers = scores_and_tiers_of(model, matrix, dpd)
    return {
        i
        for i, s in enumerate(stored)
        if s is None or (s[0], s[1]) != (int(scores[i]), TIERS[int(tiers[i])])
    }


async def stored_scores(
    session: AsyncSession, ids: Sequence[str]
) -> tuple[dict[tuple[str, str], Stored], dict[str, date]]:
    """The loans' stored scores by (loan, model), and each loan's latest scoring date under
    any model, retired ones included (a model promoted back must not score a loan as of an
    older date than its successor did)."""
    current: dict[tuple[str, str], Stored] = {}
    latest: dict[str, date] = {}
    for loan_id, version, score, tier, key, as_of in await scores_sql.stored_keys(session, ids):
        current[(loan_id, version)] = (score, tier, key)
        latest[loan_id] = max(as_of, latest.get(loan_id, as_of))
    return current, latest


async def _write(
    session: AsyncSession,
    version: str,
    scored: Sequence[Rescore],
    now: datetime,
) -> None:
    """Upsert the loans' current scores under ``version`` and add them to the history."""
    if not scored:
        return
    rows = [_row(loan_id, values, s) for loan_id, values, s, _ in scored]
    loan_ids, pds, scores, tiers, reasons, features, keys = map(list, zip(*rows, strict=True))
    days = [day for _, _, _, day in scored]
    versions, times = [version] * len(rows), [now] * len(rows)
    columns = ScoreColumns(
        loan_ids, versions, days, pds, scores, tiers, reasons, features, keys, times
    )
    await scores_sql.write_scores(session, columns)


def _row(
    loan_id: str, values: FeatureValues, s: Scored
) -> tuple[str, float, int, str, str, str, int]:
    """A score's columns that vary by loan; JSON as text, as the driver's codec takes it."""
    reasons = [
        {"code": r.code, "description": r.description, "points_lost": r.points_lost}
        for r in s.reasons
    ]
    features = features_json(values)
    return (
        loan_id,
        s.pd,
        s.score,
        s.tier,
        json.dumps(reasons),
        features,
        features_key(values, features),
    )


def _events(
    version: str, scored: Sequence[Rescore], now: datetime, announcing: Announcing
) -> list[CloudEvent]:
    return [
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
            event_id=announcing.event_id(loan_id, version),
        )
        for loan_id, _, s, _ in scored
    ]
