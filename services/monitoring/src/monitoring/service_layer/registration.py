"""Use case: register a loan (from ``POST /api/v1/loans`` or the ingest stream)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters import repository
from monitoring.domain.loans import fingerprint, resolve
from shared.events import LoanRegistered, make_event
from shared.messaging.outbox import enqueue
from shared.problems import Conflict

SOURCE = "postloan/monitoring"


async def register_loan(
    session: AsyncSession, registration: LoanRegistered, *, jurisdiction: str
) -> bool:
    """Store the loan and announce it; True if new, False if the same body was seen before.

    Raises :class:`Conflict` when the loan id exists with a different registration.
    """
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
