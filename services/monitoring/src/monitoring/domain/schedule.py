"""Repayment schedules (还款计划): exact to the cent, instalments summing to the principal.

Monthly periods; the monthly rate is the annual rate / 12. Each line is rounded half-up to the
cent, and the last instalment absorbs the residue so that principal sums exactly.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from shared.types import RepaymentMethod

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(start: date, months: int, *, day: int | None = None) -> date:
    """``start`` moved by whole months, on ``day`` (default: start's day) or the month's last."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day or start.day, last))


@dataclass(frozen=True)
class Instalment:
    seq: int
    due_on: date
    principal: Decimal
    interest: Decimal
    fees: Decimal = ZERO

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest + self.fees


def due_dates(first_due_on: date, term_months: int) -> list[date]:
    """Monthly due dates anchored on the first due date's day of month."""
    return [add_months(first_due_on, k, day=first_due_on.day) for k in range(term_months)]


def annuity_payment(principal: Decimal, monthly_rate: Decimal, term: int) -> Decimal:
    """The equal instalment of 等额本息, rounded to the cent."""
    if monthly_rate == 0:
        return cents(principal / term)
    factor = (1 + monthly_rate) ** term
    return cents(principal * monthly_rate * factor / (factor - 1))


def build_schedule(
    *,
    principal: Decimal,
    annual_rate: Decimal,
    term_months: int,
    method: RepaymentMethod,
    first_due_on: date,
) -> list[Instalment]:
    """The contractual schedule of a loan for one of the three repayment methods."""
    rate = annual_rate / 12
    dates = due_dates(first_due_on, term_months)
    balance = principal
    payment = annuity_payment(principal, rate, term_months)
    even_principal = cents(principal / term_months)
    lines: list[Instalment] = []
    for seq, due_on in enumerate(dates, start=1):
        interest = cents(balance * rate)
        if seq == term_months:
            part = balance  # the last instalment absorbs every rounding residue
        elif method is RepaymentMethod.ANNUITY:
            part = min(balance, payment - interest)
        elif method is RepaymentMethod.EQUAL_PRINCIPAL:
            part = min(balance, even_principal)
        else:
            part = ZERO
        lines.append(Instalment(seq, due_on, part, interest))
        balance -= part
    return lines
