"""The rate limits of one round of the send worker: the recent hand-overs of each borrower
and each channel's provider, read once from the database and added to as the round marks
messages ``sending``. Reading a key takes a transaction-scoped advisory lock on it first, so
two rounds (of one process or of several replicas) never count the same window at once: the
second reads it after the first has committed its hand-overs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import messages_sql
from notify.domain.rate_limits import RateLimit, next_slot


@dataclass(frozen=True, slots=True)
class RateLimits:
    borrower: RateLimit | None = None
    providers: Mapping[str, RateLimit] = field(default_factory=dict)  # by channel


@dataclass(frozen=True, slots=True)
class OverLimit:
    until: datetime
    reason: str


class RateBudget:
    def __init__(self, limits: RateLimits) -> None:
        self._limits = limits
        self._handed: dict[tuple[str, str], list[datetime]] = {}

    async def check(
        self, session: AsyncSession, borrower_id: str, channel: str, now: datetime
    ) -> OverLimit | None:
        """Whether one more hand-over to ``borrower_id`` on ``channel`` at ``now`` keeps
        within the limits; the later of the moments they allow it, when not."""
        found: list[OverLimit] = []
        if self._limits.borrower is not None:
            limit = self._limits.borrower
            slot = await self._slot(session, ("borrower_id", borrower_id), limit, now)
            if slot is not None:
                found.append(OverLimit(slot, f"rate_limit: at most {limit} to the borrower"))
        provider = self._limits.providers.get(channel)
        if provider is not None:
            slot = await self._slot(session, ("channel", channel), provider, now)
            if slot is not None:
                reason = f"rate_limit: at most {provider} through the {channel} provider"
                found.append(OverLimit(slot, reason))
        return max(found, key=lambda o: o.until) if found else None

    def handed(self, borrower_id: str, channel: str, now: datetime) -> None:
        """A message of this round was marked ``sending`` at ``now``."""
        for key in (("borrower_id", borrower_id), ("channel", channel)):
            if key in self._handed:
                self._handed[key].append(now)

    async def _slot(
        self, session: AsyncSession, key: tuple[str, str], limit: RateLimit, now: datetime
    ) -> datetime | None:
        if key not in self._handed:
            column, value = key
            await messages_sql.lock_key(session, f"rate:{column}:{value}")
            self._handed[key] = await messages_sql.handed_since(
                session, column, value, now - limit.per, limit.count
            )
        return next_slot(limit, self._handed[key], now)
