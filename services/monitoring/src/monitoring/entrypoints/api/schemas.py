"""Response models of monitoring's API (BRIEF section 5 resource shapes)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

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


def instalment_public(row: dict[str, Any]) -> InstalmentPublic:
    amount = row["principal"] + row["interest"] + row["fees"]
    paid = row["paid_principal"] + row["paid_interest"] + row["paid_fees"]
    status = "paid" if paid >= amount else ("partial" if paid > ZERO else "due")
    return InstalmentPublic(
        seq=row["seq"],
        due_on=row["due_on"],
        principal=row["principal"],
        interest=row["interest"],
        fees=row["fees"],
        amount=amount,
        paid=paid,
        status=status,
    )


def loan_public(loan: dict[str, Any]) -> LoanPublic:
    """Outstanding principal is what the schedule has not been paid; accrued interest, penalty
    and fees are zero until the ledger accrues them (end-of-day batch)."""
    principal = sum((r["principal"] - r["paid_principal"] for r in loan["schedule"]), ZERO)
    outstanding = OutstandingPublic(
        principal=principal, interest=ZERO, penalty=ZERO, fees=ZERO, total=principal
    )
    schedule = [instalment_public(r) for r in loan["schedule"]]
    return LoanPublic(**loan_summary(loan).model_dump(), outstanding=outstanding, schedule=schedule)


def loan_summary(loan: dict[str, Any]) -> LoanSummary:
    return LoanSummary.model_validate({k: loan[k] for k in LoanSummary.model_fields})
