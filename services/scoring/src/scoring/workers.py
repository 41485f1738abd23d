"""Scoring's background work, started and stopped by the app factory (which also runs the
outbox relay and the consumers of ``entrypoints/consumers.py``)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from scoring.service_layer.batch import BatchRescorer
from scoring.service_layer.drift import check_all
from scoring.settings import ScoringSettings
from shared.app import Runtime, Worker


def workers(settings: ScoringSettings) -> list[Worker]:
    async def batch_rescoring(rt: Runtime) -> None:
        """The portfolio rescoring after each end of day, then the drift check of its date
        (an interrupted run resumes from its cursor)."""

        async def check_drift(session: AsyncSession, as_of: date) -> None:
            await check_all(session, as_of, warn=settings.drift_warn, act=settings.drift_act)

        rescorer = BatchRescorer(
            rt.db,
            chunk_size=settings.rescore_chunk_size,
            poll_interval_s=settings.rescore_poll_interval_s,
            after_run=check_drift,
        )
        await rescorer.run_forever()

    return [Worker("batch-rescoring", batch_rescoring)]
