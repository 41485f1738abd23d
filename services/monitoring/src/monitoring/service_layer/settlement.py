"""Use cases: quote a loan's payoff for a date, and write a loan off.

Early settlement itself is a payment (see :mod:`.payments`): one that covers the payoff on the
day it is paid settles the loan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters import business_date, instalments_sql, loans_sql
from monitoring.domain.payoff import Parts, outstanding, payoff
from monitoring.service_layer import SOURCE
from monitoring.service_layer.payments import OPEN
from shared.events import LoanClosed, LoanStatus, LoanUpdated, make_event
from shared.messaging.outbox import enqueue
from shared.problems import NotFound, Problem


@dataclass(frozen=True)
class Quote:
    loan_id: str
    as_of: date
    currency: str
    amount: Parts


async def quote_payoff(session: AsyncSession, loan_id: str, as_of: date | None) -> Quote:
    """What settles the loan on ``as_of`` (default: the business date, never before it)."""
    loan = await loans_sql.load_loan(session, loan_id, lock=False)
    if loan is None:
        raise NotFound("loan", loan_id)
    today = await business_date.current(session)
    assert today is not None  # set when the first loan was registered
    as_of = as_of or today
    if as_of < today:
        raise Problem(
            422,
            "Payoff date passed",
            f"as_of {as_of} is before the business date {today}",
            errors=[{"field": "as_of", "message": "before the business date"}],
        )
    if loan.status not in OPEN:
        raise Problem(
            422,
            "Loan closed",
            f"loan {loan_id!r} is {loan.status}: there is nothing to pay off",
            errors=[{"field": "loan_id", "message": f"loan is {loan.status}"}],
        )
    return Quote(
        loan_id,
        as_of,
        loan.currency,
        payoff(await instalments_sql.dues(session, loan, lock=False), as_of),
    )


async def write_off(session: AsyncSession, loan_id: str) -> bool:
    """Write an open loan off (核销); False if it was written off before.

    Raises :class:`NotFound` for an unknown loan and a 422 :class:`Problem` for a loan that is
    settled or closed.
    """
    loan = await loans_sql.load_loan(session, loan_id)
    if loan is None:
        raise NotFound("loan", loan_id)
    if loan.status == LoanStatus.WRITTEN_OFF:
        return False
    if loan.status not in OPEN:
        raise Problem(
            422,
            "Loan closed",
            f"loan {loan_id!r} is {loan.status} and cannot be written off",
            errors=[{"field": "loan_id", "message": f"loan is {loan.status}"}],
        )
    today = await business_date.current(session)
    assert today is not None
    await loans_sql.set_status(session, loan_id, LoanStatus.WRITTEN_OFF.value)
    balance = outstanding(await instalments_sql.dues(session, loan), today).total
    updated = LoanUpdated(
        loan_id=loan_id,
        status=LoanStatus.WRITTEN_OFF,
        dpd=loan.dpd,
        bucket=loan.bucket,
        outstanding_total=balance,
        business_date=today,
    )
    closed = LoanClosed(loan_id=loan_id, status=LoanStatus.WRITTEN_OFF, closed_on=today)
    await enqueue(
        session,
        [
            make_event(e, source=SOURCE, subject=loan_id, domain="monitoring")
            for e in (updated, closed)
        ],
    )
    return True
