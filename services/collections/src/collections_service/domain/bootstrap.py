"""Bootstrap 95% intervals for a mean amount per case (amount recovered, contact cost).

Percentile bootstrap: resample the cases with replacement ``resamples`` times, take each
resample's mean, and read the 2.5th and 97.5th percentiles of those means. The draws come from
a generator seeded by a string naming what is measured, so the same data always give the same
interval. Amounts are counted in integer cents (exact; Decimal only at the edges). Above
``exact_limit`` cases the percentile interval and the normal one agree to the cent, and the
normal one is used (``method: "normal"``) so a million-case arm answers in milliseconds.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

Z95 = 1.959963984540054
CENT = Decimal("0.01")
RESAMPLES = 2000
EXACT_LIMIT = 5000
MIN_CASES = 30  # below this the answer carries a warning: too small a sample to tell


@dataclass(frozen=True, slots=True)
class AmountInterval:
    cases: int
    mean: Decimal | None
    low: Decimal | None
    high: Decimal | None
    method: str  # "bootstrap" or "normal"
    enough: bool

    @property
    def warning(self) -> str | None:
        if self.cases == 0:
            return "no cases"
        return None if self.enough else f"too small a sample to tell (fewer than {MIN_CASES} cases)"


def cents(amount: Decimal) -> int:
    return int((amount / CENT).to_integral_value())


def _money(value_cents: float) -> Decimal:
    return (Decimal(value_cents) * CENT).quantize(CENT)


def percentile_bounds(means: Sequence[float]) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of ``means`` (sorted), by rank: the values at ranks
    floor(0.025 B) and ceil(0.975 B) - 1 counted from 0."""
    b = len(means)
    return means[math.floor(0.025 * b)], means[math.ceil(0.975 * b) - 1]


def mean_interval(
    values_cents: Sequence[int], seed: str, *, resamples: int = RESAMPLES,
    exact_limit: int = EXACT_LIMIT,
) -> AmountInterval:  # fmt: skip
    n = len(values_cents)
    if n == 0:
        return AmountInterval(0, None, None, None, "bootstrap", False)
    mean = sum(values_cents) / n
    if n > exact_limit:
        return _normal(values_cents, mean)
    draw = random.Random(seed)
    means = sorted(sum(draw.choices(values_cents, k=n)) / n for _ in range(resamples))
    low, high = percentile_bounds(means)
    return AmountInterval(n, _money(mean), _money(low), _money(high), "bootstrap", n >= MIN_CASES)


def _normal(values_cents: Sequence[int], mean: float) -> AmountInterval:
    n = len(values_cents)
    variance = sum((v - mean) ** 2 for v in values_cents) / (n - 1)
    half = Z95 * math.sqrt(variance / n)
    return AmountInterval(n, _money(mean), _money(mean - half), _money(mean + half), "normal", True)
