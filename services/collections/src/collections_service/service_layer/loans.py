"""Use cases on collections' reference data about borrowers and loans."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import repository
from shared.events import ContactUpdated, LoanAccepted
from shared.problems import Problem

log = logging.getLogger(__name__)


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
    """Keep the borrower (latest contact data wins; its contacts when the loan names them)
    and the loan (first one wins), with its ingested ``time_barred_on``."""
    b = loan.borrower
    borrower: dict[str, object] = {
        "borrower_id": b.borrower_id,
        "name": b.name,
        "phone": b.phone,
        "email": b.email,
        "time_zone": b.time_zone,
        "locale": b.locale,
    }
    if loan.contacts is not None:
        borrower["contacts"] = [c.model_dump(mode="json") for c in loan.contacts]
    await repository.upsert_borrower(session, borrower)
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
            "time_barred_on": loan.time_barred_on,
        },
    )


async def apply_contact_update(session: AsyncSession, update: ContactUpdated) -> None:
    """The lender's contacts of a borrower, whole (BRIEF decision 5); an update without
    ``contacts`` leaves them, one older than the last applied changes nothing."""
    if update.contacts is None:
        return
    contacts = [c.model_dump(mode="json") for c in update.contacts]
    if not await repository.replace_contacts(
        session, update.borrower_id, contacts, update.updated_at
    ):
        log.info("contacts of %s not applied (unknown borrower or stale)", update.borrower_id)


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


def number_to_call(ref: RowMapping, recipient: str) -> str:
    """The number of ``recipient`` on the loan's reference: the borrower's phone, or the phone
    of the first stored contact of that kind (BRIEF decision 5); a 422 when none is known."""
    if recipient == "borrower":
        return str(ref["phone"])
    for contact in ref["contacts"] or ():
        if contact["recipient"] == recipient and contact.get("phone"):
            return str(contact["phone"])
    raise Problem(
        422,
        "No number to call",
        f"no {recipient} with a phone is known for this borrower: give 'to', or send the "
        "contact in postloan.ingest.contact.updated",
        errors=[{"field": "to", "message": f"no {recipient} with a phone is known"}],
    )
