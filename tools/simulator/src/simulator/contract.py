"""The contract schedule a lender computes for its own loans (BRIEF section 3).

The simulator knows only the public API; it computes instalments as the platform does (monthly
rate = annual / 12, half-up to the cent per line, the last instalment absorbing the residue)
so that a borrower who pays "the instalment" pays it to the cent.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(start: date, months: int, day: int | None = None) -> date:
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(day or start.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Instalment:
    seq: int
    due_on: date
    amount: Decimal


def schedule(
    principal: Decimal, annual_rate: Decimal, term: int, method: str, first_due_on: date
) -> list[Instalment]:
    """Each instalment's due date and amount (principal + interest)."""
    rate = annual_rate / 12
    if rate == 0:
        payment = cents(principal / term)
    else:
        factor = (1 + rate) ** term
        payment = cents(principal * rate * factor / (factor - 1))
    even = cents(principal / term)
    balance, lines = principal, []
    for seq in range(1, term + 1):
        interest = cents(balance * rate)
        if seq == term:
            part = balance
        elif method == "annuity":
            part = min(balance, payment - interest)
        elif method == "equal_principal":
            part = min(balance, even)
        else:
            part = ZERO
        due_on = add_months(first_due_on, seq - 1, day=first_due_on.day)
        lines.append(Instalment(seq, due_on, part + interest))
        balance -= part
    return lines
