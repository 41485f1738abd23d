"""Routes of the loan ledger: register, read, list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from monitoring.entrypoints.api.schemas import LoanPage, LoanPublic, loan_public, loan_summary
from monitoring.service_layer import loans
from monitoring.service_layer.registration import register_loan
from shared.app import SessionDep
from shared.events import LoanRegistered, LoanStatus
from shared.pagination import decode_cursor, encode_cursor
from shared.params import Cursor, PageLimit, Text
from shared.problems import NotFound
from shared.types import ExternalId

router = APIRouter(prefix="/api/v1/loans", tags=["loans"])


@router.post(
    "",
    response_model=LoanPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": LoanPublic, "description": "Already registered with this body"},
        409: {"description": "Registered before with a different body"},
    },
)
async def post_loan(body: LoanRegistered, session: SessionDep, response: Response) -> LoanPublic:
    """Register a disbursed loan (idempotent on ``loan_id``)."""
    created = await register_loan(session, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return await _read(session, body.loan_id)


@router.get("/{loan_id}", response_model=LoanPublic)
async def get_loan(loan_id: ExternalId, session: SessionDep) -> LoanPublic:
    """A loan with its schedule, outstanding amounts, DPD, bucket and status."""
    return await _read(session, loan_id)


@router.get("", response_model=LoanPage)
async def list_loans(
    session: SessionDep,
    borrower_id: ExternalId | None = None,
    loan_status: Annotated[LoanStatus | None, Query(alias="status")] = None,
    bucket: Text | None = None,
    product: ExternalId | None = None,
    cursor: Cursor | None = None,
    limit: PageLimit = 50,
) -> LoanPage:
    """Loans by id, filtered, one page at a time (pass ``next_cursor`` back as ``cursor``)."""
    filters = {
        "borrower_id": borrower_id,
        "status": loan_status,
        "bucket": bucket,
        "product": product,
    }
    rows = await loans.list_loans(
        session,
        filters={k: str(v) for k, v in filters.items() if v is not None},
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].loan_id) if more else None
    return LoanPage(items=[loan_summary(r) for r in rows], next_cursor=next_cursor)


async def _read(session: SessionDep, loan_id: str) -> LoanPublic:
    view = await loans.read_loan(session, loan_id)
    if view is None:
        raise NotFound("loan", loan_id)
    return loan_public(view.loan, business_date=view.business_date)
