"""What the use cases are given besides a session: the wall clock, injected (it decides *when*
a contact may happen, BRIEF decision 1, while the business date decides what is due), and the
lender's contact line the templates quote, and the quadrant's thresholds. Tests pass a fixed
clock; nothing else reads time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from collections_service.domain.quadrant import QuadrantThresholds

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Context:
    now: Clock = field(default=system_clock)
    contact_line: str = ""
    thresholds: QuadrantThresholds = field(default_factory=QuadrantThresholds)
