"""When a crashed component of the stack is restarted, and when the stack gives up (pure).

Back-off doubles with each restart still inside the window, so a process that crashes at once
on every start does not spin; past the limit the component is left stopped, said so, and the
rest keeps serving (a broken notify must not take the ledger down with it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from devstack.config import ConfigError


@dataclass(frozen=True)
class RestartPolicy:
    """Exponential back-off from ``first_delay_s`` up to ``max_delay_s``; ``limit`` per window."""

    first_delay_s: float = 1.0
    max_delay_s: float = 30.0
    limit: int = 5
    window_s: float = 300.0
    #: A health check unanswered this many times in a row means the process is hung.
    health_failures: int = 3
    health_interval_s: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RestartPolicy:
        default = cls()
        return cls(
            limit=int(_number(env, "POSTLOAN_RESTART_LIMIT", default.limit)),
            window_s=_number(env, "POSTLOAN_RESTART_WINDOW_S", default.window_s),
            max_delay_s=_number(env, "POSTLOAN_RESTART_MAX_DELAY_S", default.max_delay_s),
            health_interval_s=_number(env, "POSTLOAN_HEALTH_INTERVAL_S", default.health_interval_s),
        )


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, not {raw}")
    return value


@dataclass
class Restarts:
    """The restarts of one component so far, by monotonic time."""

    policy: RestartPolicy
    times: deque[float] = field(default_factory=deque)

    def delay(self, now: float) -> float | None:
        """How long to wait before the next restart, or None once the limit is reached."""
        while self.times and now - self.times[0] >= self.policy.window_s:
            self.times.popleft()
        if len(self.times) >= self.policy.limit:
            return None
        growth: float = 2.0 ** len(self.times)
        return min(self.policy.first_delay_s * growth, self.policy.max_delay_s)

    def record(self, now: float) -> None:
        self.times.append(now)

    @property
    def count(self) -> int:
        return len(self.times)
