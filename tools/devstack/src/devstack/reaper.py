"""Leaving no process behind: the processes a stack process started, and ending them.

Every process of the stack leads its own session, and the runner records each one (pid and
start time) in ``<state>/processes.json``. A runner that died without cleaning up (SIGKILL,
power cut of the terminal) leaves that file behind; the next runner ends what it lists.
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil


class AlreadyRunning(RuntimeError):
    """Another live runner owns this state folder."""


@dataclass(frozen=True)
class Recorded:
    name: str
    pid: int
    started: float
    stop_signal: int = signal.SIGTERM

    def process(self) -> psutil.Process | None:
        """The recorded process if it still runs (not another that reused its pid)."""
        try:
            proc = psutil.Process(self.pid)
            same = abs(proc.create_time() - self.started) < 0.01
            running = proc.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return None
        return proc if same and running else None


def record(name: str, pid: int, stop_signal: int = signal.SIGTERM) -> Recorded:
    return Recorded(name, pid, psutil.Process(pid).create_time(), int(stop_signal))


class Registry:
    """The runner and its processes, as a JSON file in the state folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[Recorded] = []

    def claim(self) -> list[str]:
        """Own the state folder: end a dead runner's leftovers (their names are returned)."""
        previous = self._load()
        runner = next((r for r in previous if r.name == "runner"), None)
        if runner is not None and runner.process() is not None:
            raise AlreadyRunning(f"postloan-stack (pid {runner.pid}) already runs here")
        leftovers = [r for r in previous if r.name != "runner" and r.process() is not None]
        terminate(leftovers, grace_s=10.0)
        self.entries = [record("runner", os.getpid())]
        self._save()
        return [r.name for r in leftovers]

    def add(self, entry: Recorded) -> None:
        self.entries.append(entry)
        self._save()

    def end_survivors(self) -> list[str]:
        """Kill whatever this runner started that still runs; their names."""
        survivors = [e for e in self.entries[1:] if e.process() is not None]
        terminate(survivors, grace_s=0.0)
        return [e.name for e in survivors]

    def release(self) -> None:
        """Let go of the state folder (only if this runner had claimed it)."""
        if self.entries:
            self.path.unlink(missing_ok=True)

    def _load(self) -> list[Recorded]:
        try:
            raw = json.loads(self.path.read_text())
            return [Recorded(**item) for item in raw]
        except (OSError, ValueError, TypeError):
            return []

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps([asdict(e) for e in self.entries], indent=2) + "\n")
        os.replace(tmp, self.path)


def terminate(entries: list[Recorded], *, grace_s: float) -> None:
    """Send each process its stop signal, wait, then SIGKILL it and everything it started."""
    pairs = [(e, p) for e in entries if (p := e.process()) is not None]
    family: dict[int, psutil.Process] = {}
    for _, proc in pairs:
        family[proc.pid] = proc
        family.update({child.pid: child for child in descendants(proc)})
    for entry, proc in pairs:
        _signal(proc, entry.stop_signal)
    psutil.wait_procs([proc for _, proc in pairs], timeout=grace_s)
    kill(list(family.values()))


def descendants(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return proc.children(recursive=True)
    except psutil.Error:
        return []


def descendants_of(pid: int) -> list[psutil.Process]:
    try:
        return descendants(psutil.Process(pid))
    except psutil.Error:
        return []


def kill(procs: list[psutil.Process]) -> None:
    """SIGKILL every process of the list still running (psutil checks it is the same one)."""
    for proc in procs:
        _signal(proc, signal.SIGKILL)
    psutil.wait_procs(procs, timeout=5)


def _signal(proc: psutil.Process, sig: int) -> None:
    try:
        proc.send_signal(sig)
    except psutil.Error:
        pass
