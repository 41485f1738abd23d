"""Routes of offers and the on-time points ledger (BRIEF section 5 and decision 11)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from collections_service.domain.offers import Proposal, Status
from collections_service.entrypoints.api.deps import (
    ContextDep,
    PrincipalDep,
    VisibleBorrowerId,
    VisibleCaseId,
    VisibleOfferId,
)
from collections_service.service_layer import offers, points
from shared.app import SessionDep
from shared.events import OfferKind
from shared.types import Money, NonNegativeMoney, PositiveMoney

router = APIRouter(tags=["offers"])


class PlannedInstalment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: PositiveMoney
    due_on: date


class OfferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: OfferKind
    amount: NonNegativeMoney | None = None  # a points redemption's follows from its points
    expires_on: date
    pay_amount: PositiveMoney | None = None  # settlement: what the borrower pays
    schedule: list[PlannedInstalment] | None = Field(default=None, max_length=120)  # plan
    points: int | None = Field(default=None, ge=1)  # points_redemption

    def proposal(self) -> Proposal:
        schedule = None
        if self.schedule is not None:
            schedule = tuple((i.amount, i.due_on) for i in self.schedule)
        return Proposal(
            kind=self.kind, amount=self.amount, expires_on=self.expires_on,
            pay_amount=self.pay_amount, schedule=schedule, points=self.points,
        )  # fmt: skip


class OfferOut(BaseModel):
    offer_id: uuid.UUID
    case_id: uuid.UUID
    loan_id: str
    kind: OfferKind
    amount: Money
    pay_amount: Money | None
    schedule: list[dict[str, str]] | None
    points: int | None
    expires_on: date
    status: Status
    created_by: str
    approved_by: str | None
    approval: str | None
    made_on: date
    accepted_on: date | None
    booked_on: date | None
    reason: str | None


def offer_out(row: dict[str, Any]) -> OfferOut:
    return OfferOut.model_validate({k: row.get(k) for k in OfferOut.model_fields})


@router.post("/api/v1/cases/{case_id}/offers", status_code=201, response_model=OfferOut)
async def make_offer(
    case_id: VisibleCaseId, body: OfferIn, session: SessionDep, ctx: ContextDep,
    principal: PrincipalDep,
) -> OfferOut:  # fmt: skip
    """Offer a waiver, discount, settlement, plan or points redemption on a case."""
    made = await offers.make_offer(
        session, case_id, body.proposal(), principal.subject, sorted(principal.roles), ctx
    )
    return offer_out(made)


@router.get("/api/v1/cases/{case_id}/offers", response_model=list[OfferOut])
async def case_offers(case_id: VisibleCaseId, session: SessionDep) -> list[OfferOut]:
    """The case's offers, oldest first."""
    return [offer_out(o) for o in await offers.offers_of(session, case_id)]


@router.get("/api/v1/offers/{offer_id}", response_model=OfferOut)
async def get_offer(offer_id: VisibleOfferId, session: SessionDep) -> OfferOut:
    """One offer."""
    return offer_out(await offers.read_offer(session, offer_id))


@router.post("/api/v1/offers/{offer_id}/approve", response_model=OfferOut)
async def approve(
    offer_id: VisibleOfferId, session: SessionDep, ctx: ContextDep, principal: PrincipalDep
) -> OfferOut:
    """Approve a pending offer (403 above your limit, or for an offer you made)."""
    approved = await offers.approve(
        session, offer_id, principal.subject, sorted(principal.roles), ctx
    )
    return offer_out(approved)


@router.post("/api/v1/offers/{offer_id}/accept", response_model=OfferOut)
async def accept(offer_id: VisibleOfferId, session: SessionDep, ctx: ContextDep) -> OfferOut:
    """The borrower accepted an approved offer: it is booked in the ledger."""
    return offer_out(await offers.accept(session, offer_id, ctx))


@router.post("/api/v1/offers/{offer_id}/refuse", response_model=OfferOut)
async def refuse(offer_id: VisibleOfferId, session: SessionDep, ctx: ContextDep) -> OfferOut:
    """The offer is refused (by the borrower, or instead of being approved)."""
    return offer_out(await offers.refuse(session, offer_id, ctx))


class PointsEntryOut(BaseModel):
    points: int
    reason: str
    loan_id: str
    on: date


class PointsOut(BaseModel):
    borrower_id: str
    balance: int
    entries: list[PointsEntryOut]


@router.get("/api/v1/borrowers/{borrower_id}/points", response_model=PointsOut)
async def borrower_points(borrower_id: VisibleBorrowerId, session: SessionDep) -> PointsOut:
    """A borrower's on-time points: the balance and every entry."""
    balance, entries = await points.statement(session, borrower_id)
    return PointsOut(
        borrower_id=borrower_id,
        balance=balance,
        entries=[PointsEntryOut.model_validate(e) for e in entries],
    )
