"""Use cases on notify's recipients."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import repository
from shared.events import ContactUpdated, LoanAccepted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipient:
    """A borrower as notify reaches them: channels (and whether each still works), locale and
    local time zone, postal address, and their other contacts (``shared.events.Contact`` as
    JSON: guarantor, attorney ...)."""

    borrower_id: str
    name: str
    phone: str | None
    email: str | None
    phone_valid: bool
    email_valid: bool
    locale: str
    time_zone: str
    push_token: str | None = None
    address: Mapping[str, Any] | None = None
    contacts: tuple[Mapping[str, Any], ...] = ()


async def record_recipient(session: AsyncSession, loan: LoanAccepted) -> None:
    """Keep the borrower's contact channels, locale and time zone (their address and contacts
    when the loan gives them), and link the loan."""
    b = loan.borrower
    contact: dict[str, object] = {
        "name": b.name,
        "phone": b.phone,
        "email": b.email,
        "locale": b.locale,
        "time_zone": b.time_zone,
    }
    if b.address is not None:
        contact["address"] = b.address.model_dump(mode="json")
    if loan.contacts is not None:
        contact["contacts"] = [c.model_dump(mode="json") for c in loan.contacts]
    await repository.upsert_recipient(session, b.borrower_id, contact)
    await repository.link_loan(session, loan.loan_id, b.borrower_id, loan.jurisdiction)


async def apply_contact_update(session: AsyncSession, update: ContactUpdated) -> None:
    """The lender's new contact data of a borrower, push token included; an update older
    than the last one applied (a redelivery, or one overtaken) changes nothing."""
    changes = update.model_dump(
        include={"phone", "email", "phone_valid", "email_valid", "time_zone", "locale"},
        exclude_none=True,
    )
    if update.phone is not None and update.phone_valid is None:
        changes["phone_valid"] = True  # a new number is presumed to work
    if update.email is not None and update.email_valid is None:
        changes["email_valid"] = True
    if update.push_token is not None:
        changes["push_token"] = update.push_token
    if update.address is not None:
        changes["address"] = update.address.model_dump(mode="json")
    if update.contacts is not None:
        changes["contacts"] = [c.model_dump(mode="json") for c in update.contacts]
    applied = await repository.update_contact(
        session, update.borrower_id, changes, update.updated_at
    )
    if not applied:
        log.info("contact update of %s not applied (unknown or stale)", update.borrower_id)


async def recipient_of_loan(session: AsyncSession, loan_id: str) -> Recipient | None:
    """The recipient of the loan's borrower; None when the loan is unknown."""
    return _recipient(await repository.recipient_of_loan(session, loan_id))


async def loan_link(session: AsyncSession, loan_id: str) -> tuple[str, str] | None:
    """The loan's borrower id and compliance pack; None when the loan is unknown."""
    row = await repository.recipient_of_loan(session, loan_id)
    return None if row is None else (row["borrower_id"], row["pack"])


async def recipient(session: AsyncSession, borrower_id: str) -> Recipient | None:
    """The borrower as a recipient; None when unknown."""
    return _recipient(await repository.recipient(session, borrower_id))


def _recipient(row: Mapping[str, Any] | None) -> Recipient | None:
    if row is None:
        return None
    return Recipient(
        borrower_id=row["borrower_id"],
        name=row["name"],
        phone=row["phone"],
        email=row["email"],
        phone_valid=row["phone_valid"],
        email_valid=row["email_valid"],
        locale=row["locale"],
        time_zone=row["time_zone"],
        push_token=row.get("push_token"),
        address=row.get("address"),
        contacts=tuple(row.get("contacts") or ()),
    )
