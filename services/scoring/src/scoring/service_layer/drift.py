"""Drift checks of the live models, after each batch rescoring and on demand."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters import drift_sql
from scoring.adapters.drift_sql import StoredDriftReport as StoredDriftReport  # the routes' view
from scoring.domain.drift import DriftReport, drift
from scoring.domain.model import ServedModel
from scoring.service_layer import SOURCE
from scoring.service_layer.registry import get_model, live_models
from shared.events import ModelDrift, make_event
from shared.messaging.outbox import enqueue


async def check_all(session: AsyncSession, as_of: date, *, warn: float, act: float) -> None:
    """Check every live model; each check beyond ``warn`` raises a ``model.drifted`` event."""
    for model in (await live_models(session)).all:
        await check_model(session, model, as_of, warn=warn, act=act)


async def check_model(
    session: AsyncSession, model: ServedModel, as_of: date, *, warn: float, act: float
) -> StoredDriftReport | None:
    """The drift report of ``model`` on the loans it scores now; None when it scores none."""
    stored = await get_model(session, model.version)
    assert stored is not None
    scores = await drift_sql.scores_now(session, model.version)
    if scores.size == 0:
        return None
    features = {
        f.name: await drift_sql.feature_now(session, model.version, f.name) for f in model.features
    }
    report = drift(model, stored.reference, scores, features, warn=warn, act=act)
    row = await drift_sql.insert_report(
        session,
        model_version=report.model_version,
        as_of=as_of,
        status=report.status,
        result=report.to_json(),
    )
    if report.status != "stable":
        await _announce(session, report, as_of)
    return row


async def latest_report(session: AsyncSession, version: str) -> StoredDriftReport | None:
    return await drift_sql.latest_report(session, version)


async def _announce(session: AsyncSession, report: DriftReport, as_of: date) -> None:
    payload = ModelDrift(
        model_version=report.model_version,
        as_of=as_of,
        status="act" if report.status == "act" else "warn",
        score_psi=report.score.total,
        characteristics=report.drifted(),
    )
    await enqueue(session, [make_event(payload, source=SOURCE, subject=report.model_version)])
