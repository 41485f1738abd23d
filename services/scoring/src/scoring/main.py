"""Scoring: probability of default, risk tiers and reason codes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import date
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.entrypoints.api.loans import router as loans
from scoring.entrypoints.api.models import router as models
from scoring.entrypoints.api.scores import router as scores
from scoring.entrypoints.consumers import subscriptions
from scoring.service_layer.batch import BatchRescorer
from scoring.service_layer.drift import check_all
from scoring.settings import ScoringSettings
from shared.app import Runtime, ServiceDefinition, create_service_app


def create_app(settings: ScoringSettings | None = None) -> FastAPI:
    definition = ServiceDefinition(
        name="scoring",
        title="PostLoan scoring",
        description=(
            "Behavioural probability of default (B-score): scorecard points, risk tiers A–E, "
            "reason codes, a model registry with champion/challenger, and drift reports."
        ),
        routers=[scores, models, loans],
        subscriptions=subscriptions(),
        migrations=Path(__file__).parent / "migrations",
        lifespan=batch_rescoring,
    )
    return create_service_app(definition, settings or ScoringSettings())


@asynccontextmanager
async def batch_rescoring(app: FastAPI) -> AsyncIterator[None]:
    """The portfolio rescoring after each end of day, for the app's lifetime (an interrupted
    run resumes from its cursor)."""
    rt: Runtime = app.state.runtime
    settings = app.state.settings
    assert isinstance(settings, ScoringSettings)

    async def after_run(session: AsyncSession, as_of: date) -> None:
        await check_all(session, as_of, warn=settings.drift_warn, act=settings.drift_act)

    rescorer = BatchRescorer(
        rt.db,
        chunk_size=settings.rescore_chunk_size,
        poll_interval_s=settings.rescore_poll_interval_s,
        after_run=after_run,
    )
    app.state.batch_rescorer = rescorer
    task = asyncio.create_task(rescorer.run_forever(), name="scoring-batch")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
