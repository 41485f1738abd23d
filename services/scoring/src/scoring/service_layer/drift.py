"""Drift checks of the live models, after each batch rescoring and on demand."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters.tables import Base, DriftReportRow
from scoring.domain.drift import DriftReport, drift
from scoring.domain.model import FloatArray, ServedModel
from scoring.service_layer import SOURCE
from scoring.service_layer.registry import get_model, live_models
from shared.events import ModelDrift, make_event
from shared.messaging.outbox import enqueue

REPORT = Base.metadata.tables[DriftReportRow.__tablename__]


async def check_all(session: AsyncSession, as_of: date, *, warn: float, act: float) -> None:
    """Check every live model; each check beyond ``warn`` raises a ``model.drifted`` event."""
    for model in (await live_models(session)).all:
        await check_model(session, model, as_of, warn=warn, act=act)


async def check_model(
    session: AsyncSession, model: ServedModel, as_of: date, *, warn: float, act: float
) -> dict[str, Any] | None:
    """The drift report of ``model`` on the loans it scores now; None when it scores none."""
    stored = await get_model(session, model.version)
    assert stored is not None
    scores = await _column(session, model.version, "s.score::float8")
    if scores.size == 0:
        return None
    features = {
        f.name: await _column(session, model.version, f"(s.features ->> '{_safe(f.name)}')::float8")
        for f in model.features
    }
    report = drift(model, stored["reference"], scores, features, warn=warn, act=act)
    row = await _store(session, report, as_of)
    if report.status != "stable":
        await _announce(session, report, as_of)
    return row


async def latest_report(session: AsyncSession, version: str) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                sa.select(REPORT)
                .where(REPORT.c.model_version == version)
                .order_by(REPORT.c.id.desc())
                .limit(1)
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def _column(session: AsyncSession, version: str, expression: str) -> FloatArray:
    """One value per open loan scored by ``version`` (NULL becomes NaN: the missing bin)."""
    rows = await session.execute(
        sa.text(
            f"""SELECT {expression} FROM score s JOIN loan_terms t USING (loan_id)
                WHERE s.model_version = :v AND t.closed_on IS NULL"""
        ),
        {"v": version},
    )
    return np.array([np.nan if v is None else v for v in rows.scalars()], dtype=np.float64)


def _safe(name: str) -> str:
    if not name.replace("_", "").isalnum():  # feature names come from code, but be strict
        raise ValueError(f"unexpected feature name {name!r}")
    return name


async def _store(session: AsyncSession, report: DriftReport, as_of: date) -> dict[str, Any]:
    row = (
        (
            await session.execute(
                insert(REPORT)
                .values(
                    model_version=report.model_version,
                    as_of=as_of,
                    status=report.status,
                    result=report.to_json(),
                )
                .returning(REPORT)
            )
        )
        .mappings()
        .one()
    )
    return dict(row)


async def _announce(session: AsyncSession, report: DriftReport, as_of: date) -> None:
    payload = ModelDrift(
        model_version=report.model_version,
        as_of=as_of,
        status="act" if report.status == "act" else "warn",
        score_psi=report.score.total,
        characteristics=report.drifted(),
    )
    await enqueue(session, [make_event(payload, source=SOURCE, subject=report.model_version)])
