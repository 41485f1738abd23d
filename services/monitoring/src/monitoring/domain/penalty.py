"""Penalty interest (罚息): one day's accrual on an instalment's overdue principal.

The rule, applied by end of day for date D to every instalment of an open loan:

- it accrues when principal is still unpaid at the close of D and D is past the due date plus
  the product's grace days (``D > due_on + grace_days``): with no grace, the first penalty day
  is the day after the due date, the business date on which DPD is 1, and its penalty is
  accrued when that day closes. Penalty is interest on the overdue balance each day closes
  with, as core banking accrues interest: every overdue day is accrued exactly once, by its
  own end of day, and a day whose principal was paid before it closed bears none. DPD, by
  contrast, is counted the morning after (``domain/buckets.py``): the end of day for D
  accrues the penalty of D and sets the DPD of D + 1, so on business date D + k an instalment
  due on D is k days past due and bears k − 1 days of penalty, the k-th accruing at the close
  of D + k if it is still unpaid then;
- the annual penalty rate is ``penalty_multiplier × annual_rate``, limited so that the contract
  rate plus the penalty rate never passes the product's cost cap:
  ``rate = max(0, min(multiplier × annual_rate, cost_cap_apr − annual_rate))``;
- one day's penalty is ``overdue principal × rate / 365``, rounded half-up to the cent, per
  instalment and per day, so the total stays exact and auditable line by line.

Penalty is simple interest on principal: none on overdue interest, fees or penalty. The
end-of-day SQL (``adapters/eod_sql.py``) computes the same formula set-based; the tests hold the
two to the same figures.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

DAYS_PER_YEAR = 365
CENT = Decimal("0.01")
ZERO = Decimal("0")


def penalty_rate(*, annual_rate: Decimal, multiplier: Decimal, cost_cap_apr: Decimal) -> Decimal:
    """The annual penalty rate after the cost cap; never negative."""
    return max(ZERO, min(multiplier * annual_rate, cost_cap_apr - annual_rate))


def accrues_on(*, due_on: date, grace_days: int, business_date: date) -> bool:
    """True when an unpaid instalment bears penalty for the day ``business_date``."""
    return business_date > due_on + timedelta(days=grace_days)


def daily_penalty(
    *,
    overdue_principal: Decimal,
    annual_rate: Decimal,
    multiplier: Decimal,
    cost_cap_apr: Decimal,
) -> Decimal:
    """One day's penalty on one instalment, half-up to the cent."""
    if overdue_principal <= 0:
        return ZERO.quantize(CENT)
    rate = penalty_rate(annual_rate=annual_rate, multiplier=multiplier, cost_cap_apr=cost_cap_apr)
    return (overdue_principal * rate / DAYS_PER_YEAR).quantize(CENT, rounding=ROUND_HALF_UP)
