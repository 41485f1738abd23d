"""Login lock-out with back-off, against password guessing.

Failed logins are counted per user name and per client address. From the ``threshold``-th
failure on, each failure locks the name (or address) for ``base_s``, doubling with each
further failure up to ``max_s``. Failures older than ``forget_after_s`` no longer count.
A user name is counted whether or not such a user exists, so a lock-out tells nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LockoutRule:
    threshold: int
    base_s: float
    max_s: float
    forget_after_s: float

    def __post_init__(self) -> None:
        if self.threshold < 1 or not 0 < self.base_s <= self.max_s or self.forget_after_s <= 0:
            raise ValueError("a lock-out needs threshold >= 1 and 0 < base_s <= max_s")


@dataclass(frozen=True)
class Failures:
    """The failed logins of one name or address: how many, the last, the lock they caused."""

    count: int
    last_at: datetime
    locked_until: datetime | None = None


def locked_for(failures: Failures | None, now: datetime) -> float:
    """Seconds until the lock ends; 0 when not locked."""
    if failures is None or failures.locked_until is None:
        return 0.0
    return max(0.0, (failures.locked_until - now).total_seconds())


def lock_duration(rule: LockoutRule, count: int) -> float:
    """The lock a failure causes: none below the threshold, then doubling up to the cap."""
    if count < rule.threshold:
        return 0.0
    doublings = min(count - rule.threshold, 32)  # 2**32 * base_s is past any cap
    return min(rule.max_s, rule.base_s * float(2**doublings))


def after_failure(rule: LockoutRule, failures: Failures | None, now: datetime) -> Failures:
    """The record after one more failed login at ``now``."""
    stale = failures is None or (now - failures.last_at).total_seconds() > rule.forget_after_s
    count = 1 if stale or failures is None else failures.count + 1
    lock = lock_duration(rule, count)
    until = now + timedelta(seconds=lock) if lock else None
    return Failures(count=count, last_at=now, locked_until=until)
