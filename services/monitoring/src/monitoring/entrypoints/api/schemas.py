"""Response models of monitoring's API (BRIEF section 5 resource shapes)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from monitoring.domain.payoff import Due, outstanding
from monitoring.service_layer.loans import LoanRecord
from shared.events import LoanStatus
from shared.types import Money

ZERO = Decimal("0.00")


class InstalmentPublic(BaseModel):
    seq: int
    due_on: date
    principal: Money
    interest: Money
    fees: Money
    amount: Money
    paid: Money
    status: str


class OutstandingPublic(BaseModel):
    principal: Money
    interest: Money
    penalty: Money
    fees: Money
    total: Money


class LoanSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    loan_id: str
    borrower_id: str
    product: str
    status: str
    principal: Money
    currency: str
    annual_rate: Decimal
    term_months: int
    repayment_method: str
    disbursed_on: date
    first_due_on: date
    dpd: int
    bucket: str


class LoanPublic(LoanSummary):
    outstanding: OutstandingPublic
    schedule: list[InstalmentPublic]


class LoanPage(BaseModel):
    items: list[LoanSummary]
    next_cursor: str | None


def instalment_public(due: Due, *, as_of: date, settled: bool) -> InstalmentPublic:
    """``paid`` includes paid penalty; an instalment is overdue when unpaid after its due date,
    and ``waived`` when its loan was settled early without it being paid in full."""
    amount = due.owed.principal + due.owed.interest + due.owed.fees
    paid = due.paid.total
    if due.is_paid:
        status = "paid"
    elif settled:
        status = "waived"
    elif due.due_on < as_of:
        status = "overdue"
    else:
        status = "partial" if paid > ZERO else "due"
    return InstalmentPublic(
        seq=due.seq,
        due_on=due.due_on,
        principal=due.owed.principal,
        interest=due.owed.interest,
        fees=due.owed.fees,
        amount=amount,
        paid=paid,
        status=status,
    )


def loan_public(loan: LoanRecord, *, business_date: date | None = None) -> LoanPublic:
    """The loan on the business date.

    Outstanding principal is all unpaid principal; interest and fees are those of instalments
    due on or before the business date still unpaid; penalty is accrued less paid penalty
    (see :func:`monitoring.domain.payoff.outstanding`). Without a business date nothing counts
    as due yet.
    """
    as_of = business_date or date.min
    settled = loan.status == LoanStatus.SETTLED
    dues = loan.schedule
    owed = outstanding(dues, as_of, settled=settled)
    balance = OutstandingPublic(
        principal=owed.principal,
        interest=owed.interest,
        penalty=owed.penalty,
        fees=owed.fees,
        total=owed.total,
    )
    schedule = [instalment_public(d, as_of=as_of, settled=settled) for d in dues]
    return LoanPublic(**loan_summary(loan).model_dump(), outstanding=balance, schedule=schedule)


def loan_summary(loan: LoanRecord) -> LoanSummary:
    return LoanSummary.model_validate(loan)
