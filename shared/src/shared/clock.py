"""The wall clock, injected (BRIEF decision 1): it decides *when* — contact hours in the
recipient's zone, deferrals, leases, the timestamps a service records — while the business
date decides what is due. A service's ``create_app(settings, clock=...)`` takes one; tests pass
a fixed one, so nothing depends on the hour the suite runs at."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)
