"""Monitoring's background work, started and stopped by the app factory (which also runs the
outbox relay and the consumers of ``entrypoints/consumers.py``): the end-of-day runner and the
periodic bureau refresh."""

from __future__ import annotations

import asyncio
import contextvars

from monitoring.domain.bureau import RefreshPolicy
from monitoring.service_layer.bureau import refresh_periodically, simulated_bureau
from monitoring.service_layer.eod import EodConfig, EodRunner
from monitoring.settings import MonitoringSettings
from shared.app import Runtime, Worker


class EndOfDayRuns:
    """The end-of-day runner as a worker: it resumes the runs a stopped process left running,
    then starts each run the API asks for (each in a task of its own, at most one per run).

    The API's requests wait in a queue until the worker is up, so none is lost to start-up;
    each keeps the context of the request that asked for it, so a run's events carry the
    caller's trace."""

    def __init__(self, config: EodConfig) -> None:
        self.config = config
        self._requested: asyncio.Queue[tuple[str, contextvars.Context]] = asyncio.Queue()
        self._runner: EodRunner | None = None

    def start(self, run_id: str) -> None:
        """Run ``run_id`` in the background (the route has recorded it as to run)."""
        self._requested.put_nowait((run_id, contextvars.copy_context()))

    async def __call__(self, rt: Runtime) -> None:
        if self._runner is None:  # kept across restarts: it knows which runs are running
            runner = EodRunner(rt.db, self.config, rt.tasks)
            await runner.resume_interrupted()
            self._runner = runner
        while True:
            run_id, context = await self._requested.get()
            context.run(self._runner.start, run_id)  # its task inherits the request's context


class Workers:
    """What ``create_app`` registers; ``eod`` is also what the end-of-day routes call."""

    def __init__(self, settings: MonitoringSettings) -> None:
        self.settings = settings
        self.eod = EndOfDayRuns(
            EodConfig(scale=settings.bucket_scale, chunk_size=settings.eod_chunk_size)
        )

    def all(self) -> list[Worker]:
        workers = [Worker("eod-runner", self.eod)]
        if self.settings.bureau_refresh_interval_s:
            workers.append(Worker("bureau-refresh", self.refresh_bureau_reports))
        return workers

    async def refresh_bureau_reports(self, rt: Runtime) -> None:
        """Ask the bureau for the reports that are due, every configured interval."""
        s = self.settings
        await refresh_periodically(
            rt.db,
            simulated_bureau(s.bureau_seed),
            interval_s=s.bureau_refresh_interval_s,
            policy=RefreshPolicy(default_max_age_days=s.bureau_max_age_days),
            limit=s.bureau_refresh_batch,
        )
