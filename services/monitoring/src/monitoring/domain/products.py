"""Loan products as data: the rules a loan follows (penalty rate, cost cap, grace, waterfall).

A product is edited in place; each change that alters a rule bumps its ``version`` so that what
was decided under which rules stays traceable. Loans keep the jurisdiction they were registered
under.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal

from monitoring.domain.payoff import DEFAULT_WATERFALL, Part

#: Borrower-protection rule packs a product can name (BRIEF section 7).
JURISDICTIONS = ("cn", "us")


def parse_waterfall(parts: Sequence[str]) -> tuple[Part, ...]:
    """The allocation order, refused unless it names each of the four parts exactly once."""
    names = [p.value for p in Part]
    if sorted(parts) != sorted(names):
        raise ValueError(f"must order each of {', '.join(names)} exactly once")
    return tuple(Part(p) for p in parts)


@dataclass(frozen=True)
class ProductTerms:
    """Everything about a product that a client sets (all but id, version and timestamps)."""

    name: str
    currency: str
    penalty_multiplier: Decimal
    cost_cap_apr: Decimal
    grace_days: int
    waterfall: tuple[Part, ...]
    jurisdiction: str

    def __post_init__(self) -> None:
        parse_waterfall(self.waterfall)
        if self.jurisdiction not in JURISDICTIONS:
            raise ValueError(f"jurisdiction must be one of {', '.join(JURISDICTIONS)}")
        if self.cost_cap_apr <= 0:
            raise ValueError("cost_cap_apr must be above zero")
        if self.penalty_multiplier < 0:
            raise ValueError("penalty_multiplier must not be negative")
        if self.grace_days < 0:
            raise ValueError("grace_days must not be negative")

    def as_row(self) -> dict[str, object]:
        row = asdict(self)
        row["waterfall"] = [p.value for p in self.waterfall]
        return row


def order_of(stored: Sequence[str] | None) -> tuple[Part, ...]:
    """A stored product's waterfall; the default order when the product is missing."""
    return DEFAULT_WATERFALL if stored is None else parse_waterfall(stored)
