"""What the use cases are given besides a session: the wall clock, injected (it decides *when*
a contact may happen, BRIEF decision 1, while the business date decides what is due), and the
lender's contact line the templates quote, and the quadrant's thresholds. Tests pass a fixed
clock; nothing else reads time."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from collections_service.domain.offers import OfferPolicy
from collections_service.domain.quadrant import QuadrantThresholds
from shared.clock import Clock, system_clock

__all__ = ["Clock", "Context", "system_clock"]


@dataclass(frozen=True, slots=True)
class Context:
    now: Clock = field(default=system_clock)
    contact_line: str = ""
    thresholds: QuadrantThresholds = field(default_factory=QuadrantThresholds)
    #: what one contact costs per channel, and the seed of the bootstrap (strategy results)
    contact_costs: dict[str, Decimal] = field(default_factory=dict)
    results_seed: str = "postloan"
    offers: OfferPolicy = field(default_factory=OfferPolicy)
