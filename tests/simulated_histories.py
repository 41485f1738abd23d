"""Loan histories from the simulator's plan, as scoring would keep them from monitoring's events.

A helper for the scoring tests that need a portfolio with known risk (no ``test_`` prefix, so
pytest does not collect it). Payments are applied as the platform's waterfall would with no
penalty accrued: oldest instalment first, interest before principal, on the payment's day.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from scoring.domain.history import Allocation, BureauPoint, Instalment, LoanHistory
from simulator.contract import ZERO, add_months, cents, schedule
from simulator.plan import Loan, Payment, Plan


def histories_from_plan(plan: Plan) -> list[LoanHistory]:
    return [_history(loan) for loan in plan.loans]


def _history(loan: Loan) -> LoanHistory:
    registration = loan.registration
    principal = Decimal(registration["principal"])
    instalments = _instalments(
        principal,
        Decimal(registration["annual_rate"]),
        int(registration["term_months"]),
        str(registration["repayment_method"]),
        loan,
    )
    bureau = tuple(
        BureauPoint(r.day, r.score, r.inquiries_30d, r.open_loans, r.delinquent_accounts)
        for r in loan.reports
    )
    allocations = _allocate(instalments, loan.payments)
    return LoanHistory(
        loan.loan_id, principal, loan.disbursed_on, instalments, allocations, bureau, ()
    )


def _instalments(
    principal: Decimal, annual_rate: Decimal, term: int, method: str, loan: Loan
) -> tuple[Instalment, ...]:
    """The simulator's schedule, split into principal by replaying its interest on the balance
    (the contract module gives each line's amount only)."""
    lines = schedule(principal, annual_rate, term, method, add_months(loan.disbursed_on, 1))
    rate, balance, instalments = annual_rate / 12, principal, []
    for line in lines:
        part = line.amount - cents(balance * rate)
        instalments.append(Instalment(line.seq, line.due_on, part, line.amount))
        balance -= part
    return tuple(instalments)


def _allocate(
    instalments: Sequence[Instalment], payments: Sequence[Payment]
) -> tuple[Allocation, ...]:
    interest = {i.seq: i.due - i.principal for i in instalments}
    principal = {i.seq: i.principal for i in instalments}
    allocations = []
    for payment in sorted(payments, key=lambda p: p.day):
        left = payment.amount
        for seq in sorted(principal):
            if left <= ZERO:
                break
            to_interest = min(left, interest[seq])
            to_principal = min(left - to_interest, principal[seq])
            if to_interest + to_principal > ZERO:
                allocations.append(
                    Allocation(
                        payment.payment_id,
                        seq,
                        payment.day,
                        to_principal,
                        to_interest + to_principal,
                    )
                )
            interest[seq] -= to_interest
            principal[seq] -= to_principal
            left -= to_interest + to_principal
    return tuple(allocations)
