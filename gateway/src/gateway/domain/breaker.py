"""A circuit breaker per upstream: stop calling a service that keeps failing, probe it later.

Closed: calls pass; ``threshold`` consecutive failures open it. Open: calls are refused for
``reset_after`` seconds. Then one probe call is let through (half-open): its success closes the
breaker, its failure opens it again; a probe that never reports (cancelled) is replaced after
``reset_after`` seconds. Time is passed in, so the rules are tested without a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    threshold: int = 5
    reset_after: float = 5.0
    failures: int = 0
    opened_at: float | None = None
    probe_started: float | None = None

    def state(self, now: float) -> BreakerState:
        if self.opened_at is None:
            return BreakerState.CLOSED
        if now - self.opened_at >= self.reset_after:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self, now: float) -> bool:
        """Whether a call may go out now; in half-open state only one probe at a time."""
        state = self.state(now)
        if state is BreakerState.CLOSED:
            return True
        stale = self.probe_started is None or now - self.probe_started >= self.reset_after
        if state is BreakerState.HALF_OPEN and stale:
            self.probe_started = now
            return True
        return False

    def retry_after(self, now: float) -> float:
        """Seconds until a probe will be allowed (0 when calls pass)."""
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.reset_after - (now - self.opened_at))

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self.probe_started = None

    def record_failure(self, now: float) -> None:
        self.failures += 1
        if self.probe_started is not None or self.failures >= self.threshold:
            self.opened_at = now
        self.probe_started = None
