"""What scoring knows of one loan: its schedule and every dated fact about its repayment.

Built from monitoring's events: the schedule from ``loan.registered``, allocations from
``payment.applied`` and ``payment.reversed`` (a reversal is an allocation with negative amounts,
booked on the day it was reversed), bureau reports of the borrower and early-warning alerts.
Every fact carries the day it became known, so a history can be cut back to what was known on
any day (:meth:`LoanHistory.as_known_on`): training must never see the future.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Instalment:
    """One line of the schedule; ``due`` is principal + interest + fees (no penalty)."""

    seq: int
    due_on: date
    principal: Decimal
    due: Decimal


@dataclass(frozen=True, slots=True)
class Allocation:
    """Money a payment applied to one instalment (``total`` includes any penalty paid).

    A reversal is the same allocation with negative amounts, booked on the reversal's day.
    """

    payment_id: str
    seq: int
    booked_on: date
    principal: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class BureauPoint:
    reported_on: date
    score: int
    inquiries_30d: int
    open_loans: int
    delinquent_accounts: int


@dataclass(frozen=True, slots=True)
class AlertPoint:
    raised_on: date
    rule: str


@dataclass(frozen=True, slots=True)
class LoanHistory:
    loan_id: str
    principal: Decimal
    disbursed_on: date
    instalments: tuple[Instalment, ...]
    allocations: tuple[Allocation, ...]
    bureau: tuple[BureauPoint, ...]
    alerts: tuple[AlertPoint, ...]

    def as_known_on(self, day: date) -> LoanHistory:
        """The history as it stood at the end of ``day``: later facts dropped, order kept.

        The schedule is known from registration, so it stays whole.
        """
        return replace(
            self,
            allocations=tuple(a for a in self.allocations if a.booked_on <= day),
            bureau=tuple(b for b in self.bureau if b.reported_on <= day),
            alerts=tuple(a for a in self.alerts if a.raised_on <= day),
        )
