"""Log lines of a stack process: split from raw output, kept for failure reports, shown live."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from pathlib import Path

#: Enough context to see why a process failed, small enough to read in a terminal.
RECENT_LINES = 40
_MAX_LINE = 64 * 1024
_POLL_S = 0.2


class LineLog:
    """Turns chunks of output into lines, keeps the last ones and passes each to ``on_line``."""

    def __init__(self, on_line: Callable[[str], None], keep: int = RECENT_LINES) -> None:
        self.recent: deque[str] = deque(maxlen=keep)
        self._on_line = on_line
        self._partial = b""

    def feed(self, chunk: bytes) -> None:
        *complete, self._partial = (self._partial + chunk).split(b"\n")
        for raw in complete:
            self._emit(raw)
        if len(self._partial) > _MAX_LINE:
            self.flush()

    def flush(self) -> None:
        if self._partial:
            self._emit(self._partial)
            self._partial = b""

    def _emit(self, raw: bytes) -> None:
        line = raw.decode("utf-8", errors="replace").rstrip("\r")
        self.recent.append(line)
        self._on_line(line)


async def follow(path: Path, log: LineLog, *, offset: int) -> None:
    """Feed ``log`` with what is appended to ``path`` after ``offset``, until cancelled."""
    try:
        while True:
            chunk = _read_from(path, offset)
            offset += len(chunk)
            if chunk:
                log.feed(chunk)
            else:
                if size_of(path) < offset:  # rotated (copied, then truncated): start over
                    offset = 0
                await asyncio.sleep(_POLL_S)
    finally:
        chunk = _read_from(path, offset)
        if chunk:
            log.feed(chunk)
        log.flush()


def _read_from(path: Path, offset: int) -> bytes:
    try:
        with path.open("rb") as f:
            f.seek(offset)
            return f.read(1 << 20)
    except FileNotFoundError:
        return b""


def size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
