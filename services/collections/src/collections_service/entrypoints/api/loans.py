"""Collections' read-only view of the loans and borrowers it knows."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel

from collections_service.entrypoints.api.deps import VisibleLoanId
from collections_service.service_layer.loans import loan_with_borrower
from shared.app import SessionDep
from shared.problems import NotFound
from shared.types import Money

router = APIRouter(prefix="/api/v1/collections", tags=["collections"])


class BorrowerRefPublic(BaseModel):
    borrower_id: str
    name: str
    phone: str
    email: str | None
    time_zone: str
    locale: str


class LoanRefPublic(BaseModel):
    loan_id: str
    product: str
    jurisdiction: str
    principal: Money
    currency: str
    disbursed_on: date
    borrower: BorrowerRefPublic


@router.get("/loans/{loan_id}", response_model=LoanRefPublic)
async def get_loan_reference(loan_id: VisibleLoanId, session: SessionDep) -> LoanRefPublic:
    """The loan and borrower reference collections works cases on (a collector: of their
    cases only)."""
    loan = await loan_with_borrower(session, loan_id)
    if loan is None:
        raise NotFound("loan", loan_id)
    return LoanRefPublic.model_validate(asdict(loan))
