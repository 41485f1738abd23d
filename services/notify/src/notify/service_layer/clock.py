"""The wall clock notify decides *when* by (contact hours in the recipient's zone, deferrals,
leases and every timestamp it records, BRIEF decision 1), injected: tests pass a fixed one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)
