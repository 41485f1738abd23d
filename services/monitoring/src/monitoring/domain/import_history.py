"""An imported payment history, allocated by the ledger's waterfall as if paid live."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from monitoring.domain.imports import ZERO, LoanIn, PaymentIn, ScheduleLine, value_date
from monitoring.domain.payoff import DEFAULT_WATERFALL, NOTHING, Due, Part, Parts, outstanding
from monitoring.domain.waterfall import Allocation, Payment, replay


@dataclass(frozen=True, slots=True)
class History:
    """A loan's payment history allocated: per payment, and the paid amounts per instalment."""

    allocations: list[Allocation]
    paid: dict[int, Parts]
    settled: bool


def allocate(
    loan: LoanIn,
    schedule: Sequence[ScheduleLine],
    order: Sequence[Part] = DEFAULT_WATERFALL,
) -> History:
    """The history applied in order by the ledger's waterfall (no penalty before import)."""
    dues = _contract_dues(loan, schedule)
    payments = [
        Payment(p.payment_id, p.amount, p.paid_at, value_date(p, loan)) for p in loan.payments
    ]
    allocations = replay(dues, payments, order=order)
    paid: dict[int, Parts] = {}
    for allocation in allocations:
        for line in allocation.lines:
            paid[line.seq] = paid.get(line.seq, NOTHING) + line.paid
    return History(allocations, paid, any(a.settles for a in allocations))


@dataclass(frozen=True, slots=True)
class AppliedPayment:
    """A payment of an imported history as the ledger applied it, and the balance it left."""

    payment: PaymentIn
    allocation: Allocation
    booked_on: date
    outstanding_after: Decimal


def applied_payments(
    loan: LoanIn, schedule: Sequence[ScheduleLine], history: History, booked_on: Sequence[date]
) -> list[AppliedPayment]:
    """The history's payments in the order they were applied, each with the loan's balance
    after it on the day it was booked, by :func:`monitoring.domain.payoff.outstanding`."""
    by_id = {p.payment_id: (p, day) for p, day in zip(loan.payments, booked_on, strict=True)}
    dues = {due.seq: due for due in _contract_dues(loan, schedule)}
    applied = []
    for allocation in history.allocations:
        payment, day = by_id[allocation.payment_id]
        for line in allocation.lines:
            d = dues[line.seq]
            dues[line.seq] = Due(d.seq, d.starts_on, d.due_on, d.owed, d.paid + line.paid)
        balance = outstanding(dues.values(), day, settled=allocation.settles).total
        applied.append(AppliedPayment(payment, allocation, day, balance))
    return applied


def _contract_dues(loan: LoanIn, schedule: Sequence[ScheduleLine]) -> list[Due]:
    """The schedule's instalments, nothing paid; each period starts at the previous due date."""
    dues, starts_on = [], loan.disbursed_on
    for seq, due_on, principal, interest, fees in schedule:
        dues.append(Due(seq, starts_on, due_on, Parts(ZERO, fees, interest, principal)))
        starts_on = due_on
    return dues
