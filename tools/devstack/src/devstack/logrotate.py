"""Size-based rotation of the stack's log files (``<state>/logs/*.log``), while they are written.

Every writer opened its log for appending (the apps' output pump, PostgreSQL and NATS), so a
log is rotated by copy-then-truncate: ``x.log`` is copied to ``x.log.1`` (older ones shifted to
``.2`` … and the oldest beyond the limit dropped) and emptied in place; the writers go on at
its new end. The lines written between the copy and the truncation (a few milliseconds) are
lost; that is the price of rotating files held open by processes we do not restart.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from devstack.config import ConfigError

_EVERY_S = 30.0


@dataclass(frozen=True)
class LogRotation:
    max_bytes: int = 50 * 1024 * 1024
    keep: int = 5

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LogRotation:
        size = _whole(env, "POSTLOAN_LOG_MAX_MB", cls.max_bytes // (1024 * 1024))
        return cls(max_bytes=size * 1024 * 1024, keep=_whole(env, "POSTLOAN_LOG_KEEP", cls.keep))


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name) or str(default)
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number ≥ 1, not {raw!r}")
    return int(raw)


def rotate_if_big(path: Path, rotation: LogRotation) -> bool:
    """Rotate ``path`` if it reached the size limit; whether it did."""
    try:
        if path.stat().st_size < rotation.max_bytes:
            return False
    except FileNotFoundError:
        return False
    path.with_name(f"{path.name}.{rotation.keep}").unlink(missing_ok=True)
    for older in range(rotation.keep - 1, 0, -1):
        source = path.with_name(f"{path.name}.{older}")
        if source.exists():
            os.replace(source, path.with_name(f"{path.name}.{older + 1}"))
    shutil.copyfile(path, path.with_name(f"{path.name}.1"))
    os.truncate(path, 0)
    return True


async def keep_logs_small(folder: Path, rotation: LogRotation, every_s: float = _EVERY_S) -> None:
    """Check the folder's logs every ``every_s`` seconds, until cancelled."""
    while True:
        for path in sorted(folder.glob("*.log")):
            await asyncio.to_thread(rotate_if_big, path, rotation)
        await asyncio.sleep(every_s)
