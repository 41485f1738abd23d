"""The set-based queries that feed the early-warning rules their facts, and the borrower
contact data the contact rule watches."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters.tables import Base, BorrowerRow, LoanRow
from monitoring.domain.rules import ContactState, InstalmentFacts, PaymentWindow
from shared.db import driver_connection

# --- facts for the rules -------------------------------------------------------------------

#: Each instalment with a date to check in ``first .. last``, as it stood at the end of that
#: date (with the DPD that end of day gave it, counted against the morning after): what is
#: paid on it now, less what payments booked after that date paid, so that end of day
#: (nothing booked later yet) and a later back-test see the same amount. Loans come from
#: that date's delinquency snapshot (the loans open that day).
_INSTALMENT_FACTS = """
SELECT i.loan_id, i.seq, i.due_on, i.principal + i.interest + i.fees AS amount_due,
       i.paid_principal + i.paid_interest + i.paid_fees - COALESCE(later.amount, 0) AS paid,
       s.as_of AS evaluated_on, s.dpd
FROM instalment i
JOIN delinquency_snapshot s
  ON s.loan_id = i.loan_id AND s.as_of = i.due_on + CAST(:offset AS integer)
LEFT JOIN LATERAL (
    SELECT sum(a.principal + a.interest + a.fees) AS amount
    FROM allocation a JOIN payment p ON p.payment_id = a.payment_id
    WHERE a.loan_id = i.loan_id AND a.seq = i.seq
      AND p.status = 'applied' AND p.booked_on > s.as_of
) later ON true
WHERE i.due_on BETWEEN CAST(:first AS date) - CAST(:offset AS integer)
                   AND CAST(:last AS date) - CAST(:offset AS integer)
  AND s.as_of BETWEEN CAST(:first AS date) AND CAST(:last AS date)
  AND s.status IN ('active', 'delinquent')
  AND i.paid_principal + i.paid_interest + i.paid_fees - COALESCE(later.amount, 0)
      < i.principal + i.interest + i.fees
  AND {condition}
ORDER BY s.as_of, i.loan_id, i.seq
"""
_PARTLY_PAID = "i.paid_principal + i.paid_interest + i.paid_fees - COALESCE(later.amount, 0) > 0"
_FIRST_INSTALMENT = (
    "NOT EXISTS (SELECT 1 FROM instalment e WHERE e.loan_id = i.loan_id AND e.seq < i.seq)"
)


async def partly_paid_instalments(
    session: AsyncSession, *, first: date, last: date, grace_days: int
) -> list[InstalmentFacts]:
    """Instalments paid in part, checked ``grace_days`` after their due date in the range."""
    sql = _INSTALMENT_FACTS.format(condition=_PARTLY_PAID)
    return await _instalments(session, sql, first=first, last=last, offset=grace_days)


async def unpaid_first_instalments(
    session: AsyncSession, *, first: date, last: date, days_after_due: int
) -> list[InstalmentFacts]:
    """First instalments still not fully paid when they are ``days_after_due`` days past due,
    in range: at the close of the day before (``due_on + days_after_due − 1``), whose end of
    day counts that DPD against the morning after (``domain/buckets.py``)."""
    sql = _INSTALMENT_FACTS.format(condition=_FIRST_INSTALMENT)
    offset = days_after_due - 1
    return await _instalments(session, sql, first=first, last=last, offset=offset)


async def _instalments(session: AsyncSession, sql: str, **params: Any) -> list[InstalmentFacts]:
    rows = await session.execute(sa.text(sql), params)
    return [InstalmentFacts(**r) for r in rows.mappings()]


#: For each applied payment in scope, the loan's last ``:n`` applied payments up to it (by
#: ``paid_at``), kept only when each of them is smaller than the one before, with the amount
#: of the instalment the payment went to (else the next one due, else the last one).
#: ``{scope}`` filters both the loans (alias ``q`` on ``payment``) and the windows (``q``).
_PAYMENT_WINDOWS = """
WITH scope_loans AS MATERIALIZED (
    -- Materialised, so that the planner reads the loans' payments by loan_id (its index)
    -- rather than the scope's payments for each one, whatever its estimates.
    SELECT DISTINCT q.loan_id FROM payment q WHERE q.status = 'applied' AND {scope}
), steps AS (
    SELECT p.loan_id, p.payment_id, p.amount, p.paid_at, p.booked_on,
           CASE WHEN p.amount < lag(p.amount) OVER o THEN 1 ELSE 0 END AS shrank
    FROM scope_loans l JOIN payment p ON p.loan_id = l.loan_id
    WHERE p.status = 'applied'
    WINDOW o AS (PARTITION BY p.loan_id ORDER BY p.paid_at, p.payment_id)
), windows AS (
    SELECT s.*, array_agg(s.payment_id) OVER w AS payment_ids,
           array_agg(s.amount) OVER w AS amounts, sum(s.shrank) OVER r AS shrinks
    FROM steps s
    WINDOW w AS (PARTITION BY s.loan_id ORDER BY s.paid_at, s.payment_id
                 ROWS BETWEEN $1::integer - 1 PRECEDING AND CURRENT ROW),
           r AS (PARTITION BY s.loan_id ORDER BY s.paid_at, s.payment_id
                 ROWS BETWEEN $1::integer - 2 PRECEDING AND CURRENT ROW)
)
SELECT q.loan_id, q.booked_on, q.payment_ids, q.amounts, COALESCE(
    (SELECT i.principal + i.interest + i.fees FROM allocation a
     JOIN instalment i ON i.loan_id = a.loan_id AND i.seq = a.seq
     WHERE a.payment_id = q.payment_id ORDER BY a.seq LIMIT 1),
    (SELECT i.principal + i.interest + i.fees FROM instalment i
     WHERE i.loan_id = q.loan_id AND i.due_on >= q.booked_on ORDER BY i.due_on, i.seq LIMIT 1),
    (SELECT i.principal + i.interest + i.fees FROM instalment i
     WHERE i.loan_id = q.loan_id ORDER BY i.seq DESC LIMIT 1)
) AS amount_due
FROM windows q
WHERE {scope} AND q.shrinks = $1::integer - 1
ORDER BY q.booked_on, q.paid_at, q.payment_id
"""


async def shrinking_payment_windows(
    session: AsyncSession,
    *,
    n: int,
    payment_id: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[PaymentWindow]:
    """Windows of ``n`` shrinking payments ending at one payment, or at those booked in range."""
    conn = await driver_connection(session)
    if payment_id is not None:
        query = _PAYMENT_WINDOWS.format(scope="q.payment_id = $2")
        rows = await conn.fetch(query, n, payment_id)
    else:
        query = _PAYMENT_WINDOWS.format(scope="q.booked_on BETWEEN $2 AND $3")
        rows = await conn.fetch(query, n, first, last)
    return [
        PaymentWindow(
            loan_id=r["loan_id"],
            booked_on=r["booked_on"],
            payment_ids=tuple(r["payment_ids"]),
            amounts=tuple(r["amounts"]),
            amount_due=r["amount_due"],
        )
        for r in rows
    ]


# --- borrowers and loans -------------------------------------------------------------------

BORROWER = Base.metadata.tables[BorrowerRow.__tablename__]
LOAN = Base.metadata.tables[LoanRow.__tablename__]
OPEN = ("active", "delinquent")


async def update_contact(
    session: AsyncSession, borrower_id: str, values: Mapping[str, object], *, updated_at: datetime
) -> ContactState | None:
    """Apply contact changes to a borrower; its contact state after them, None if unknown."""
    state = (BORROWER.c.phone_valid, BORROWER.c.email_valid, BORROWER.c.email)
    statement: sa.Executable = (
        sa.update(BORROWER)
        .where(BORROWER.c.borrower_id == borrower_id)
        .values(**values)
        .returning(*state)
        if values
        else sa.select(*state).where(BORROWER.c.borrower_id == borrower_id)
    )
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        return None
    return ContactState(
        phone_valid=row.phone_valid,
        email_valid=row.email_valid,
        has_email=row.email is not None,
        updated_at=updated_at,
    )


async def open_loans_of(session: AsyncSession, borrower_id: str) -> list[str]:
    query = (
        sa.select(LOAN.c.loan_id)
        .where(LOAN.c.borrower_id == borrower_id, LOAN.c.status.in_(OPEN))
        .order_by(LOAN.c.loan_id)
    )
    return list((await session.execute(query)).scalars())


async def loan_exists(session: AsyncSession, loan_id: str) -> bool:
    query = sa.select(sa.exists().where(LOAN.c.loan_id == loan_id))
    return bool((await session.execute(query)).scalar())
