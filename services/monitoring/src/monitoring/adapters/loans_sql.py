"""SQL of a loan's row as the ledger needs it: read under a lock, status, existence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters.tables import Base, LoanRow
from shared.db import driver_connection

LOAN = Base.metadata.tables[LoanRow.__tablename__]


@dataclass(frozen=True)
class Loan:
    """What the ledger needs of a loan, read under a row lock."""

    loan_id: str
    status: str
    currency: str
    disbursed_on: date
    product: str
    time_zone: str
    dpd: int
    bucket: str
    #: The product's allocation order (None: the default), read with the loan: one round trip
    #: fewer per payment.
    waterfall: list[str] | None


LOAN_SQL = """
    SELECT l.loan_id, l.status, l.currency, l.disbursed_on, l.product, b.time_zone, l.dpd, l.bucket,
           p.waterfall
    FROM loan l JOIN borrower b ON b.borrower_id = l.borrower_id
    LEFT JOIN product p ON p.product_id = l.product
    WHERE l.loan_id = $1
"""


async def load_loan(session: AsyncSession, loan_id: str, *, lock: bool = True) -> Loan | None:
    """The loan, by default locked until the transaction ends (its payments apply one by one)."""
    conn = await driver_connection(session)
    row = await conn.fetchrow(LOAN_SQL + (" FOR UPDATE OF l" if lock else ""), loan_id)
    return None if row is None else Loan(*row)


async def set_status(session: AsyncSession, loan_id: str, status: str) -> None:
    conn = await driver_connection(session)
    await conn.execute("UPDATE loan SET status = $2 WHERE loan_id = $1", loan_id, status)


async def loan_exists(session: AsyncSession, loan_id: str) -> bool:
    query = sa.select(sa.literal(True)).where(LOAN.c.loan_id == loan_id)
    return (await session.execute(query)).scalar_one_or_none() is not None
