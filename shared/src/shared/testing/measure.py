"""Measuring a block of a benchmark: the peak memory of this process while it runs."""

from __future__ import annotations

import asyncio

import psutil


class PeakRss:
    """Samples this process's RSS while a block runs (``ru_maxrss`` covers the whole process,
    start-up and earlier phases included)."""

    def __init__(self, interval_s: float = 0.05) -> None:
        self.peak = 0
        self._interval_s = interval_s
        self._process = psutil.Process()
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, self._process.memory_info().rss)
            await asyncio.sleep(self._interval_s)

    async def __aenter__(self) -> PeakRss:
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.peak = max(self.peak, self._process.memory_info().rss)
