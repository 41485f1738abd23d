"""Rate limits on hand-overs: per borrower (however many messages their loans ask for) and
per provider (what a provider's contract allows), as "N per period" windows that slide.

A message over a limit is deferred to the moment the window lets it through, never dropped.
Pure: the service layer gathers when the recent hand-overs were."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
SPELLING = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*")


@dataclass(frozen=True, slots=True)
class RateLimit:
    count: int
    per: timedelta

    def __str__(self) -> str:
        return f"{self.count} per {self.per}"


def parse_rate(text: str) -> RateLimit:
    """``"3/1h"``, ``"50/s"``, ``"100/10m"``, ``"5/1d"``: at most N hand-overs per period."""
    match = SPELLING.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a rate such as '3/1h' or '50/s' (units s, m, h, d)")
    count, amount, unit = int(match[1]), int(match[2] or 1), match[3]
    if count < 1 or amount < 1:
        raise ValueError(f"{text!r}: both the count and the period must be at least 1")
    return RateLimit(count, timedelta(**{UNITS[unit]: amount}))


def next_slot(limit: RateLimit, handed: Sequence[datetime], now: datetime) -> datetime | None:
    """None when one more hand-over at ``now`` stays within ``limit``; otherwise the first
    moment it would (when the oldest hand-over that fills the window leaves it)."""
    recent = sorted(t for t in handed if t > now - limit.per)
    if len(recent) < limit.count:
        return None
    return recent[-limit.count] + limit.per
