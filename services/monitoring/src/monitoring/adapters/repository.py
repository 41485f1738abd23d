"""Loan persistence: set-based inserts and the queries the API needs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters.instalments_sql import dues_from
from monitoring.adapters.tables import Base, BorrowerRow, InstalmentRow, LoanRow
from monitoring.domain.loans import RegisteredLoan
from monitoring.domain.payoff import Due

LOAN = Base.metadata.tables[LoanRow.__tablename__]
BORROWER = Base.metadata.tables[BorrowerRow.__tablename__]
INSTALMENT = Base.metadata.tables[InstalmentRow.__tablename__]


@dataclass(frozen=True)
class LoanRecord:
    """A loan as the API reads it: its terms, status, DPD and bucket, and (one loan read on
    its own) its schedule as balances."""

    loan_id: str
    borrower_id: str
    product: str
    status: str
    principal: Decimal
    currency: str
    annual_rate: Decimal
    term_months: int
    repayment_method: str
    disbursed_on: date
    first_due_on: date
    dpd: int
    bucket: str
    schedule: tuple[Due, ...] = ()


_COLUMNS = tuple(f.name for f in fields(LoanRecord) if f.name != "schedule")


async def insert_loan(session: AsyncSession, loan: RegisteredLoan) -> bool:
    """Store a new loan with its borrower and schedule; False when the loan id exists."""
    a = loan.accepted
    # The postal address is for letters (notify); the ledger keeps the borrower's reach only.
    borrower = a.borrower.model_dump(exclude={"address"})
    await session.execute(
        insert(BORROWER)
        .values(borrower)
        .on_conflict_do_update(index_elements=["borrower_id"], set_=borrower)
    )
    inserted = await session.execute(
        insert(LOAN)
        .values(
            loan_id=a.loan_id,
            borrower_id=a.borrower.borrower_id,
            product=a.product,
            status=a.status.value,
            principal=a.principal,
            currency=a.currency,
            annual_rate=a.annual_rate,
            term_months=a.term_months,
            repayment_method=a.repayment_method.value,
            disbursed_on=a.disbursed_on,
            first_due_on=a.first_due_on,
            jurisdiction=a.jurisdiction,
            dpd=0,
            bucket="C",
            fingerprint=loan.fingerprint,
        )
        .on_conflict_do_nothing(index_elements=["loan_id"])
        .returning(LOAN.c.loan_id)
    )
    if inserted.scalar_one_or_none() is None:
        return False
    rows = [asdict(i) | {"loan_id": a.loan_id} for i in loan.schedule]
    await session.execute(sa.insert(INSTALMENT), rows)
    return True


async def fingerprint_of(session: AsyncSession, loan_id: str) -> str | None:
    result = await session.execute(sa.select(LOAN.c.fingerprint).where(LOAN.c.loan_id == loan_id))
    return result.scalar_one_or_none()


async def get_loan(session: AsyncSession, loan_id: str) -> LoanRecord | None:
    query = sa.select(*(LOAN.c[c] for c in _COLUMNS)).where(LOAN.c.loan_id == loan_id)
    loan = (await session.execute(query)).mappings().one_or_none()
    if loan is None:
        return None
    schedule = await session.execute(
        sa.select(INSTALMENT).where(INSTALMENT.c.loan_id == loan_id).order_by(INSTALMENT.c.seq)
    )
    rows = [dict(r) for r in schedule.mappings()]
    dues = dues_from(rows, disbursed_on=loan["disbursed_on"])
    return LoanRecord(**loan, schedule=tuple(dues))


async def list_loans(
    session: AsyncSession, *, filters: dict[str, str], after: str | None, limit: int
) -> list[LoanRecord]:
    """Loans ordered by id (keyset pagination), without their schedules."""
    query = sa.select(*(LOAN.c[c] for c in _COLUMNS)).order_by(LOAN.c.loan_id).limit(limit)
    for column, value in filters.items():
        query = query.where(LOAN.c[column] == value)
    if after is not None:
        query = query.where(LOAN.c.loan_id > after)
    return [LoanRecord(**r) for r in (await session.execute(query)).mappings()]
