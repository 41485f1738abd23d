"""Strategy results: rates with their 95% intervals and a challenger's uplift over the champion.

Rates use Wilson's score interval (it holds near 0 and 1 and for small samples, where the
normal one does not). An uplift is the difference of two rates with its normal-approximation
interval and the two-sided p-value of the pooled two-proportion z-test; below the sample sizes
those approximations need (at least 30 cases and 5 of each outcome in each arm) the answer says
the sample is too small to tell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054
MIN_CASES, MIN_EACH = 30, 5


@dataclass(frozen=True, slots=True)
class Rate:
    successes: int
    cases: int
    rate: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True, slots=True)
class Uplift:
    difference: float | None
    low: float | None
    high: float | None
    p_value: float | None
    enough: bool  # False: too small a sample to tell


def wilson(successes: int, cases: int, z: float = Z95) -> Rate:
    if cases == 0:
        return Rate(successes, cases, None, None, None)
    p = successes / cases
    centre = (p + z * z / (2 * cases)) / (1 + z * z / cases)
    half = z * math.sqrt(p * (1 - p) / cases + z * z / (4 * cases * cases)) / (1 + z * z / cases)
    return Rate(successes, cases, p, max(0.0, centre - half), min(1.0, centre + half))


def enough(successes: int, cases: int) -> bool:
    return cases >= MIN_CASES and min(successes, cases - successes) >= MIN_EACH


def uplift(challenger: Rate, champion: Rate, z: float = Z95) -> Uplift:
    """The challenger's rate less the champion's, its interval and the test's p-value."""
    big = enough(challenger.successes, challenger.cases) and enough(
        champion.successes, champion.cases
    )
    if challenger.rate is None or champion.rate is None:
        return Uplift(None, None, None, None, False)
    p1, n1, p2, n2 = challenger.rate, challenger.cases, champion.rate, champion.cases
    difference = p1 - p2
    spread = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    pooled = (challenger.successes + champion.successes) / (n1 + n2)
    pooled_spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p_value = (
        1.0 if pooled_spread == 0 else math.erfc(abs(difference) / pooled_spread / math.sqrt(2))
    )
    return Uplift(difference, difference - z * spread, difference + z * spread, p_value, big)
