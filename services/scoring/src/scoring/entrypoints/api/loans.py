"""Scoring's read-only view of the loans it knows."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from scoring.service_layer.facts import loan_terms
from shared.app import SessionDep
from shared.problems import NotFound
from shared.types import ExternalId, Money, Rate

router = APIRouter(prefix="/api/v1/scoring", tags=["scoring"])


class LoanTermsPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    loan_id: str
    borrower_id: str
    product: str
    principal: Money
    currency: str
    annual_rate: Rate
    term_months: int
    repayment_method: str
    disbursed_on: date
    first_due_on: date


@router.get("/loans/{loan_id}", response_model=LoanTermsPublic)
async def get_loan_terms(loan_id: ExternalId, session: SessionDep) -> LoanTermsPublic:
    """The loan terms scoring uses as model inputs."""
    terms = await loan_terms(session, loan_id)
    if terms is None:
        raise NotFound("loan", loan_id)
    return LoanTermsPublic.model_validate(terms)
