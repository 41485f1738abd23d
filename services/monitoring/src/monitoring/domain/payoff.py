"""What a loan owes on a date: each instalment's balance, the loan's outstanding, the payoff.

An instalment owes four parts: the contract's principal, interest and fees, and the penalty
interest (罚息) the end-of-day batch has accrued on it. What it owes *on a date* depends on the
part:

- principal: all of it, whatever the date (it is the debt);
- interest: in full once due; within its period (from the previous due date, or the
  disbursement for the first instalment, to its own due date) **pro rata by actual days**,
  ``interest × days elapsed / days in the period``, half-up to the cent; nothing before the
  period starts. Interest paid ahead of that is not refunded;
- fees: once due (fees of later periods are not owed early);
- penalty: what has been accrued (only the end-of-day batch accrues it, up to the business date).

The **payoff** on a date (提前结清金额) is the sum of those: a payment of at least that much on
that date settles the loan, and the interest and fees of the periods after it are waived.
The loan's **outstanding** on the business date counts interest and fees only of instalments
due on or before it (the current period is not yet billed), plus all principal and penalty.
:func:`outstanding` is its one definition: payments, settlement, write-off, the loan's API view
and the import's ``payment.applied`` events use it, and end of day's snapshot computes it
set-based (``adapters/eod_sql.py``), held to it to the cent by a property test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


class Part(StrEnum):
    """The parts of an instalment a payment can pay."""

    PENALTY = "penalty"
    FEES = "fees"
    INTEREST = "interest"
    PRINCIPAL = "principal"


#: The default allocation order within an instalment (BRIEF section 3).
DEFAULT_WATERFALL: tuple[Part, ...] = (Part.PENALTY, Part.FEES, Part.INTEREST, Part.PRINCIPAL)


@dataclass(frozen=True, slots=True)
class Parts:
    """An amount for each part of an instalment.

    The arithmetic names the four fields rather than looping over :class:`Part`: every payment
    re-derives its loan's balances through it, and the loop was most of a payment's domain time.
    """

    penalty: Decimal = ZERO
    fees: Decimal = ZERO
    interest: Decimal = ZERO
    principal: Decimal = ZERO

    def __getitem__(self, part: Part) -> Decimal:
        amount: Decimal = getattr(self, part.value)
        return amount

    def __add__(self, other: Parts) -> Parts:
        return Parts(
            self.penalty + other.penalty,
            self.fees + other.fees,
            self.interest + other.interest,
            self.principal + other.principal,
        )

    def __sub__(self, other: Parts) -> Parts:
        return Parts(
            self.penalty - other.penalty,
            self.fees - other.fees,
            self.interest - other.interest,
            self.principal - other.principal,
        )

    def set(self, part: Part, amount: Decimal) -> Parts:
        return replace(self, **{part.value: amount})

    def floored(self) -> Parts:
        """Negative parts as zero (what was paid beyond an amount is not owed back)."""
        return Parts(
            max(self.penalty, ZERO),
            max(self.fees, ZERO),
            max(self.interest, ZERO),
            max(self.principal, ZERO),
        )

    @property
    def total(self) -> Decimal:
        return self.penalty + self.fees + self.interest + self.principal

    @property
    def is_zero(self) -> bool:
        return not (self.penalty or self.fees or self.interest or self.principal)


NOTHING = Parts()


def total(amounts: Iterable[Parts]) -> Parts:
    result = NOTHING
    for amount in amounts:
        result += amount
    return result


@dataclass(frozen=True)
class Due:
    """One instalment: what it owes (contract and accrued penalty) and what has been paid."""

    seq: int
    #: The start of its interest period: the previous due date, or the disbursement date.
    starts_on: date
    due_on: date
    owed: Parts
    paid: Parts = NOTHING

    @property
    def remaining(self) -> Parts:
        return (self.owed - self.paid).floored()

    @property
    def is_paid(self) -> bool:
        return self.remaining.is_zero


def accrued_interest(due: Due, as_of: date) -> Decimal:
    """The instalment's interest earned by ``as_of``: pro rata by actual days in its period."""
    if as_of >= due.due_on:
        return due.owed.interest
    period = (due.due_on - due.starts_on).days
    elapsed = (as_of - due.starts_on).days
    if period <= 0 or elapsed <= 0:
        return ZERO
    return cents(due.owed.interest * elapsed / period)


def settlement(due: Due, as_of: date) -> Parts:
    """What settling the loan on ``as_of`` pays on this instalment."""
    owed = Parts(
        penalty=due.owed.penalty,
        fees=due.owed.fees if due.due_on <= as_of else ZERO,
        interest=accrued_interest(due, as_of),
        principal=due.owed.principal,
    )
    return (owed - due.paid).floored()


def payoff(dues: Iterable[Due], as_of: date) -> Parts:
    """The amount that settles the loan on ``as_of``, by part."""
    return total(settlement(d, as_of) for d in dues)


def outstanding(dues: Iterable[Due], as_of: date, *, settled: bool = False) -> Parts:
    """The loan's balance on ``as_of``: all principal and penalty, and what is due of the rest.

    A settled loan owes nothing: what its settlement did not pay was waived.
    """
    if settled:
        return NOTHING
    # Four running sums rather than a Parts per instalment: the import counts the balance after
    # every payment of a history, so this runs once per instalment per payment.
    penalty = fees = interest = principal = ZERO
    for d in dues:
        owed, paid = d.owed, d.paid
        if owed.principal > paid.principal:  # (what was paid beyond a part is not owed back)
            principal += owed.principal - paid.principal
        if owed.penalty > paid.penalty:
            penalty += owed.penalty - paid.penalty
        if d.due_on > as_of:  # not yet due: its interest and fees are not owed yet
            continue
        if owed.interest > paid.interest:
            interest += owed.interest - paid.interest
        if owed.fees > paid.fees:
            fees += owed.fees - paid.fees
    return Parts(penalty, fees, interest, principal)
