"""One app process of the stack: spawned in its own session, its output kept and shown."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from devstack.lines import LineLog
from devstack.reaper import descendants_of, kill


class AppChild:
    """A process started through :mod:`devstack.tether`, so it dies with the runner too."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        log_file: Path,
        on_line: Callable[[str, str], None],
    ) -> None:
        self.name = name
        self.argv = tuple(argv)
        self.env = dict(env)
        self.log_file = log_file
        self.lines = LineLog(lambda line: on_line(name, line))
        self.proc: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError(f"{self.name} has not been started")
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.returncode

    async def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        tether = (sys.executable, "-m", "devstack.tether", str(os.getpid()))
        self.proc = await asyncio.create_subprocess_exec(
            *tether,
            *self.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
        )
        sink = self.log_file.open("ab")
        self._pump = asyncio.create_task(self._read(sink), name=f"{self.name}-output")

    async def wait(self) -> int:
        """Wait for the process to exit and its last output to be read; the exit code."""
        if self.proc is None:
            raise RuntimeError(f"{self.name} has not been started")
        code = await self.proc.wait()
        if self._pump is not None:
            await asyncio.shield(self._pump)  # a cancelled waiter must not stop the reading
        return code

    async def stop(self, *, grace_s: float, hurry: asyncio.Event) -> None:
        """SIGTERM its process group, wait up to ``grace_s`` (or ``hurry``), then SIGKILL."""
        if self.proc is None:
            return
        family = descendants_of(self.pid)
        if self.proc.returncode is None:
            self._signal_group(signal.SIGTERM)
            exited = asyncio.ensure_future(self.wait())
            hurried = asyncio.ensure_future(hurry.wait())
            await asyncio.wait(
                {exited, hurried}, timeout=grace_s, return_when=asyncio.FIRST_COMPLETED
            )
            hurried.cancel()
            if not exited.done():
                self._signal_group(signal.SIGKILL)
            await exited
        self._signal_group(signal.SIGKILL)
        await asyncio.to_thread(kill, family)

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    async def _read(self, sink: BinaryIO) -> None:
        assert self.proc is not None
        stdout = self.proc.stdout
        assert stdout is not None
        with sink:
            while chunk := await stdout.read(1 << 16):
                sink.write(chunk)
                sink.flush()
                self.lines.feed(chunk)
            self.lines.flush()
