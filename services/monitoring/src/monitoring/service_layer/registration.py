"""Use case: register a loan (from ``POST /api/v1/loans`` or the ingest stream)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters import business_date, products_sql, repository
from monitoring.domain.loans import fingerprint, resolve
from monitoring.service_layer import SOURCE
from shared.events import LoanRegistered, make_event
from shared.messaging.outbox import enqueue
from shared.problems import Conflict, Problem


async def register_loan(session: AsyncSession, registration: LoanRegistered) -> bool:
    """Store the loan and announce it; True if new, False if the same body was seen before.

    Raises :class:`Conflict` when the loan id exists with a different registration, and a 422
    :class:`Problem` for an unknown product or a disbursement after the business date.
    """
    jurisdiction = await _jurisdiction(session, registration)
    today = await business_date.start_at(session, registration.disbursed_on)
    if registration.disbursed_on > today:
        raise Problem(
            422,
            "Disbursed in the future",
            f"disbursed_on {registration.disbursed_on} is after the business date {today}",
            errors=[{"field": "disbursed_on", "message": "after the business date"}],
        )
    loan = resolve(registration, jurisdiction=jurisdiction)
    if await repository.insert_loan(session, loan):
        event = make_event(loan.accepted, source=SOURCE, subject=registration.loan_id)
        await enqueue(session, [event])
        return True
    if await repository.fingerprint_of(session, registration.loan_id) != fingerprint(registration):
        raise Conflict(
            f"loan {registration.loan_id!r} is already registered with a different body",
            loan_id=registration.loan_id,
        )
    return False


async def _jurisdiction(session: AsyncSession, registration: LoanRegistered) -> str:
    market = await products_sql.market_of(session, registration.product)
    if market is None:
        raise Problem(
            422,
            "Unknown product",
            f"product {registration.product!r} does not exist: create it with "
            "POST /api/v1/products, or omit product to use the default one",
            errors=[{"field": "product", "message": "unknown product"}],
        )
    jurisdiction, currency = market
    if currency != registration.currency:
        raise Problem(
            422,
            "Wrong currency",
            f"product {registration.product!r} lends in {currency}",
            errors=[{"field": "currency", "message": f"must be {currency}"}],
        )
    return jurisdiction
