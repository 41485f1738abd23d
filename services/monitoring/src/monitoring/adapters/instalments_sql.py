"""SQL of instalment balances: read as dues, and paid amounts moved by deltas.

The paid amounts move by one ``UPDATE … FROM unnest(…)`` of deltas, whatever the number of
payments re-derived; arrays rather than ``VALUES`` lists keep the statement's text fixed, so
that it is prepared once per connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters.loans_sql import Loan
from monitoring.domain.payoff import Due, Part, Parts
from shared.db import driver_connection


def dues_from(rows: Sequence[Mapping[str, Any]], *, disbursed_on: date) -> list[Due]:
    """Instalment rows as balances; each period starts at the previous due date."""
    dues: list[Due] = []
    starts_on = disbursed_on
    for r in sorted(rows, key=lambda r: int(r["seq"])):
        owed = Parts(r["penalty"], r["fees"], r["interest"], r["principal"])
        paid = Parts(r["paid_penalty"], r["paid_fees"], r["paid_interest"], r["paid_principal"])
        dues.append(Due(r["seq"], starts_on, r["due_on"], owed, paid))
        starts_on = r["due_on"]
    return dues


async def dues(session: AsyncSession, loan: Loan, *, lock: bool = True) -> list[Due]:
    """The loan's instalments as balances, by default locked against end-of-day accrual."""
    conn = await driver_connection(session)
    query = "SELECT * FROM instalment WHERE loan_id = $1 ORDER BY seq"
    rows = await conn.fetch(query + (" FOR UPDATE" if lock else ""), loan.loan_id)
    return dues_from(rows, disbursed_on=loan.disbursed_on)


ADD_PAID_SQL = """
    UPDATE instalment i SET paid_penalty = i.paid_penalty + d.penalty,
        paid_fees = i.paid_fees + d.fees, paid_interest = i.paid_interest + d.interest,
        paid_principal = i.paid_principal + d.principal
    FROM unnest($2::int[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[])
        AS d(seq, penalty, fees, interest, principal)
    WHERE i.loan_id = $1 AND i.seq = d.seq
"""


async def add_paid(session: AsyncSession, loan_id: str, delta: Mapping[int, Parts]) -> None:
    """Move the instalments' paid amounts by ``delta`` (per ``seq``), in one statement."""
    changed = {seq: d for seq, d in delta.items() if not d.is_zero}
    if not changed:
        return
    conn = await driver_connection(session)
    parts = [[d[p] for d in changed.values()] for p in Part]
    await conn.execute(ADD_PAID_SQL, loan_id, list(changed), *parts)
