"""Use cases on collections' reference data about borrowers and loans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import repository
from shared.events import LoanAccepted


@dataclass(frozen=True)
class BorrowerReference:
    """The borrower of a loan and how to reach them, as monitoring last announced."""

    borrower_id: str
    name: str
    phone: str
    email: str | None
    time_zone: str
    locale: str


@dataclass(frozen=True)
class LoanReference:
    """A loan collections may work a case on, with its borrower."""

    loan_id: str
    product: str
    jurisdiction: str
    principal: Decimal
    currency: str
    disbursed_on: date
    borrower: BorrowerReference


async def record_loan(session: AsyncSession, loan: LoanAccepted) -> None:
    """Keep the borrower (latest contact data wins) and the loan (first one wins)."""
    b = loan.borrower
    await repository.upsert_borrower(
        session,
        {
            "borrower_id": b.borrower_id,
            "name": b.name,
            "phone": b.phone,
            "email": b.email,
            "time_zone": b.time_zone,
            "locale": b.locale,
        },
    )
    schedule = sorted(loan.schedule or (), key=lambda i: i.due_on)
    await repository.insert_loan(
        session,
        {
            "loan_id": loan.loan_id,
            "borrower_id": b.borrower_id,
            "product": loan.product,
            "jurisdiction": loan.jurisdiction,
            "principal": loan.principal,
            "currency": loan.currency,
            "disbursed_on": loan.disbursed_on,
            "due_dates": [i.due_on for i in schedule],
            "due_amounts": [i.principal + i.interest + i.fees for i in schedule],
        },
    )


async def loan_with_borrower(session: AsyncSession, loan_id: str) -> LoanReference | None:
    """The loan with its borrower's contact data; None when unknown."""
    row = await repository.loan_with_borrower(session, loan_id)
    if row is None:
        return None
    borrower = BorrowerReference(
        borrower_id=row["borrower_id"],
        name=row["name"],
        phone=row["phone"],
        email=row["email"],
        time_zone=row["time_zone"],
        locale=row["locale"],
    )
    return LoanReference(
        loan_id=row["loan_id"],
        product=row["product"],
        jurisdiction=row["jurisdiction"],
        principal=row["principal"],
        currency=row["currency"],
        disbursed_on=row["disbursed_on"],
        borrower=borrower,
    )
