"""Payment allocation (冲账): which parts of which instalments each payment pays.

A payment is applied on its **value date** (the day it was paid, in the borrower's time zone),
against the balances left by the payments before it in ``(paid_at, payment_id)`` order:

1. **Early settlement.** If it covers the payoff on its value date (see :mod:`.payoff`), it pays
   exactly that (penalty, fees due, interest accrued pro rata, all principal), the loan is
   settled, the interest and fees of later periods are waived, and the rest is *unapplied*.
   Payments after a settlement are unapplied in full.
2. **What is due.** Otherwise it pays instalments oldest first, each in full in the product's
   order (default penalty → fees → interest → principal): every instalment due on or before
   the value date or carrying penalty, then the current period's instalment (the next one to
   fall due: paying this month's bill a few days early is the normal case, not a prepayment).
3. **Overpayment.** What is left reduces future principal, **latest instalment first**, and
   the contractual interest of those instalments is kept (it stays due on their dates).
   Latest first leaves the borrower's next bills as they were, so a prepayment cannot hide a
   missed instalment from delinquency tracking (DPD, early warnings), and the balance left is
   repaid sooner. Contractual interest is kept because the schedule is the contract the
   ledger stores (the instalment table has no column for a revised interest): recomputing it
   on the lower balance would rewrite instalments that a reversal must later restore
   exactly. A borrower who wants to stop paying interest settles early (step 1), which
   charges interest only to the settlement date. Money never reaches this step's end
   unapplied: a payment that could clear all principal and what is due covers the payoff,
   so step 1 takes it.

Because a payment's allocation depends only on the payments before it, a payment that arrives
out of order, or a reversal, re-derives the allocations of the payments from it onwards
(:func:`rebook`); every order of arrival ends in the ledger of the in-order application
(:func:`replay`). Penalty is the one input that is not history: it is the amount end-of-day
has accrued so far, so payments re-derived after more penalty accrued pay that penalty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from monitoring.domain.payoff import (
    DEFAULT_WATERFALL,
    NOTHING,
    ZERO,
    Due,
    Part,
    Parts,
    payoff,
    settlement,
    total,
)


@dataclass(frozen=True)
class Payment:
    """A live payment as the waterfall sees it."""

    payment_id: str
    amount: Decimal
    paid_at: datetime
    value_date: date

    @property
    def key(self) -> tuple[datetime, str]:
        """Payments apply in this order."""
        return (self.paid_at, self.payment_id)


@dataclass(frozen=True)
class Line:
    """What one payment paid on one instalment."""

    seq: int
    paid: Parts


@dataclass(frozen=True)
class Allocation:
    """A payment's allocation: lines in ``seq`` order, what found nothing to pay, settlement."""

    payment_id: str
    lines: tuple[Line, ...]
    unapplied: Decimal
    settles: bool = False

    @property
    def applied(self) -> Parts:
        return total(line.paid for line in self.lines)


def in_order(payments: Iterable[Payment]) -> list[Payment]:
    return sorted(payments, key=lambda p: p.key)


class Ledger:
    """The instalments of one loan as payments are applied to them, in order."""

    def __init__(self, dues: Sequence[Due], *, order: Sequence[Part] = DEFAULT_WATERFALL) -> None:
        if sorted(order) != sorted(Part) or len(order) != len(Part):
            raise ValueError(f"waterfall must order each of {[p.value for p in Part]} once")
        self._dues = sorted(dues, key=lambda d: d.seq)
        self._order = tuple(order)
        self.settled = False

    @property
    def dues(self) -> tuple[Due, ...]:
        return tuple(self._dues)

    def book(self, allocation: Allocation) -> None:
        """Take an allocation already made (by a payment earlier in the order) as paid."""
        self._credit({line.seq: line.paid for line in allocation.lines})
        self.settled = self.settled or allocation.settles

    def apply(self, payment: Payment) -> Allocation:
        """Allocate the next payment in order and take it as paid."""
        if self.settled:
            return Allocation(payment.payment_id, (), payment.amount)
        quote = payoff(self._dues, payment.value_date)
        if payment.amount >= quote.total:
            paid = {d.seq: settlement(d, payment.value_date) for d in self._dues}
            allocation = _allocation(payment, paid, payment.amount - quote.total, settles=True)
        else:
            paid, left = self._waterfall(payment)
            allocation = _allocation(payment, paid, left, settles=False)
        self.book(allocation)
        return allocation

    def _waterfall(self, payment: Payment) -> tuple[dict[int, Parts], Decimal]:
        left = payment.amount
        paid: dict[int, Parts] = {}
        billed = _billed(self._dues, payment.value_date)
        for due in self._dues[:billed]:
            paid[due.seq], left = _fill(due.remaining, self._order, left)
        for due in reversed(self._dues[billed:]):
            principal = min(left, due.remaining.principal)
            paid[due.seq] = NOTHING.set(Part.PRINCIPAL, principal)
            left -= principal
        return paid, left

    def _credit(self, paid: dict[int, Parts]) -> None:
        self._dues = [
            replace(d, paid=d.paid + paid[d.seq]) if d.seq in paid else d for d in self._dues
        ]


def replay(
    dues: Sequence[Due],
    payments: Iterable[Payment],
    *,
    order: Sequence[Part] = DEFAULT_WATERFALL,
) -> list[Allocation]:
    """The whole ledger of a loan: its payments allocated in order, from nothing paid."""
    ledger = Ledger(dues, order=order)
    return [ledger.apply(p) for p in in_order(payments)]


@dataclass(frozen=True)
class Rebooked:
    """The outcome of :func:`rebook`."""

    allocations: tuple[Allocation, ...]
    dues: tuple[Due, ...]
    settled: bool


def rebook(
    dues: Sequence[Due],
    booked: Mapping[str, Mapping[int, Parts]],
    payments: Iterable[Payment],
    *,
    order: Sequence[Part] = DEFAULT_WATERFALL,
    settled: bool = False,
) -> Rebooked:
    """Re-derive the allocations of ``payments``: the live payments from some point of the order
    on, the one that just arrived among them.

    ``dues`` hold every payment booked so far, ``booked`` what each payment from that point
    on had been allocated (a reversed payment's included: it is taken back), and ``settled``
    whether a payment before that point settled the loan. Payments before that point keep
    their allocations, since nothing after them changes what they paid.
    """
    ledger = Ledger(unbook(dues, booked), order=order)
    ledger.settled = settled
    allocations = tuple(ledger.apply(p) for p in in_order(payments))
    return Rebooked(allocations, ledger.dues, ledger.settled)


def unbook(dues: Sequence[Due], booked: Mapping[str, Mapping[int, Parts]]) -> list[Due]:
    """The instalments as they were before the given allocations were paid."""
    taken = {d.seq: total(lines.get(d.seq, NOTHING) for lines in booked.values()) for d in dues}
    return [replace(d, paid=d.paid - taken[d.seq]) for d in dues]


def _billed(dues: Sequence[Due], value_date: date) -> int:
    """How many instalments (from the oldest) a payment on ``value_date`` pays in full first."""
    due_or_late = [
        i for i, d in enumerate(dues) if d.due_on <= value_date or d.remaining.penalty > ZERO
    ]
    after_last = due_or_late[-1] + 1 if due_or_late else 0
    return min(after_last + 1, len(dues))  # and the current period's instalment


def _fill(remaining: Parts, order: Sequence[Part], amount: Decimal) -> tuple[Parts, Decimal]:
    paid = NOTHING
    for part in order:
        take = min(amount, remaining[part])
        paid = paid.set(part, take)
        amount -= take
    return paid, amount


def _allocation(
    payment: Payment, paid: dict[int, Parts], unapplied: Decimal, *, settles: bool
) -> Allocation:
    lines = tuple(Line(seq, p) for seq, p in sorted(paid.items()) if not p.is_zero)
    return Allocation(payment.payment_id, lines, unapplied, settles)
