"""Credit bureau data: what a report says, the date it speaks for, and when a new one is due."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class BureauFacts:
    """One stored report on a borrower."""

    reported_at: datetime
    score: int
    inquiries_30d: int
    open_loans: int
    total_debt: Decimal
    delinquent_accounts: int


def report_date(reported_at: datetime, time_zone: str) -> date:
    """The business date a report speaks for: its time in the borrower's own time zone."""
    return reported_at.astimezone(ZoneInfo(time_zone)).date()


#: Riskier borrowers are looked at more often (tiers A–E as scoring assigns them).
DEFAULT_MAX_AGE_BY_TIER: Mapping[str, int] = {"A": 90, "B": 60, "C": 30, "D": 14, "E": 7}


@dataclass(frozen=True)
class RefreshPolicy:
    """How old a borrower's last report may be before a new one is requested, by risk tier."""

    default_max_age_days: int = 30
    max_age_by_tier: Mapping[str, int] = field(default_factory=lambda: DEFAULT_MAX_AGE_BY_TIER)

    @property
    def shortest_max_age(self) -> int:
        return min([self.default_max_age_days, *self.max_age_by_tier.values()])

    def max_age(self, tier: str | None) -> int:
        if tier is None:
            return self.default_max_age_days
        return self.max_age_by_tier.get(tier, self.default_max_age_days)

    def is_due(self, last_reported_on: date | None, today: date, tier: str | None = None) -> bool:
        """A borrower never reported on is due; otherwise when the last report is old enough."""
        if last_reported_on is None:
            return True
        return (today - last_reported_on).days >= self.max_age(tier)


@dataclass(frozen=True)
class ReportOnLoans:
    """A stored report, the borrower's report before it, and their loans on the book that day."""

    borrower_id: str
    reported_on: date
    current: BureauFacts
    previous: BureauFacts | None
    loan_ids: tuple[str, ...]
