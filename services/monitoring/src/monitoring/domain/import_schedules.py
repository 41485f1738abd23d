"""The schedule an imported loan is stored with: its own, or the contract's (amounts cached)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from monitoring.domain.imports import ZERO, LoanIn, ScheduleLine
from monitoring.domain.schedule import build_schedule, due_dates
from shared.types import RepaymentMethod


def schedule_of(loan: LoanIn) -> list[ScheduleLine]:
    """The loan's schedule: its own, or the contract's (amounts cached)."""
    if loan.schedule is not None:
        return sorted(loan.schedule)
    amounts = contract_cents(loan.principal, loan.annual_rate, loan.term_months, loan.method)
    cents = [Decimal(a) for a in amounts.split(" ")]
    days = due_dates(loan.due_from, loan.term_months)
    return [
        (seq, day, cents[2 * seq - 2], cents[2 * seq - 1], ZERO)
        for seq, day in enumerate(days, start=1)
    ]


_ANCHOR = date(2000, 1, 31)  # amounts do not depend on dates


# Portfolios repeat a few contracts (principal, rate, term, method) many times. The cache is
# bounded so that a portfolio of all-different contracts cannot swell the service, and holds
# text rather than Decimals and tuples (a tenth of the memory): ~650 B a contract of 12
# instalments with its key, ~21 MB at most.
CONTRACTS_CACHED = 32_768


@lru_cache(maxsize=CONTRACTS_CACHED)
def contract_cents(principal: Decimal, rate: Decimal, term: int, method: RepaymentMethod) -> str:
    """Principal and interest of each instalment of :func:`build_schedule` as COPY and JSON
    want them, space-separated: ``"p1 i1 p2 i2 …"`` (cached)."""
    lines = build_schedule(
        principal=principal,
        annual_rate=rate,
        term_months=term,
        method=method,
        first_due_on=_ANCHOR,
    )
    return " ".join(f"{i.principal!s} {i.interest!s}" for i in lines)
