"""Measuring a block of a benchmark: peak memory of this process, CPU of process trees."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field

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


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children, waited-for children included (PostgreSQL's
    backends come and go under the postmaster)."""
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


@dataclass
class CpuMeter:
    """CPU seconds each named process tree, and this process as ``own``, spent between
    :meth:`start` and :meth:`stop`; with the wall time and the load average at the end."""

    pids: dict[str, int]
    own: str = "bench (this process)"
    spent: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def start(self) -> None:
        self.spent = {name: -cpu_seconds(pid) for name, pid in self.pids.items()}
        self.spent[self.own] = -time.process_time()
        self.wall = -time.perf_counter()

    def stop(self) -> None:
        for name, pid in self.pids.items():
            self.spent[name] += cpu_seconds(pid)
        self.spent[self.own] += time.process_time()
        self.wall += time.perf_counter()
        self.load = os.getloadavg()
