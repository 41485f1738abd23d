"""Routes of payments and early settlement: pay, reverse, read, payoff quote, write-off."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from monitoring.entrypoints.api.schemas import LoanPublic, loan_public
from monitoring.service_layer.loans import read_loan
from monitoring.service_layer.payments import (
    PaymentView,
    list_payments,
    read_payment,
    receive_payment,
    reverse_payment,
)
from monitoring.service_layer.settlement import quote_payoff, write_off
from shared.app import SessionDep
from shared.events import AllocationLine, PaymentReceived
from shared.pagination import decode_time_cursor, encode_time_cursor
from shared.params import CalendarDate, Cursor, Instant, PageLimit
from shared.problems import NotFound
from shared.types import ExternalId, Money

router = APIRouter(prefix="/api/v1", tags=["payments"])


class PaymentPublic(BaseModel):
    payment_id: str
    loan_id: str
    amount: Money
    currency: str
    paid_at: datetime
    channel: str
    status: str
    booked_on: date
    allocation: list[AllocationLine]
    unapplied: Money
    reversed_at: datetime | None
    reversal_reason: str | None


class PaymentPage(BaseModel):
    items: list[PaymentPublic]
    next_cursor: str | None


class ReversalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200)
    reversed_at: Instant


class PayoffPublic(BaseModel):
    loan_id: str
    as_of: date
    currency: str
    principal: Money
    interest: Money
    penalty: Money
    fees: Money
    total: Money


@router.post(
    "/payments",
    response_model=PaymentPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": PaymentPublic, "description": "Received before with this body"},
        404: {"description": "No loan with that loan_id"},
        409: {"description": "Received before with a different body"},
    },
)
async def post_payment(
    body: PaymentReceived, session: SessionDep, response: Response
) -> PaymentPublic:
    """Book a repayment and allocate it (idempotent on ``payment_id``)."""
    receipt = await receive_payment(session, body)
    if not receipt.new:
        response.status_code = status.HTTP_200_OK
    return _public(receipt.payment)


@router.get("/payments/{payment_id}", response_model=PaymentPublic)
async def get_payment(payment_id: ExternalId, session: SessionDep) -> PaymentPublic:
    """A payment with what it paid on each instalment."""
    return _public(await read_payment(session, payment_id))


@router.post(
    "/payments/{payment_id}/reversal",
    response_model=PaymentPublic,
    responses={409: {"description": "Reversed before with another reason or time"}},
)
async def post_reversal(
    payment_id: ExternalId, body: ReversalRequest, session: SessionDep
) -> PaymentPublic:
    """Reverse a payment: what it paid is owed again (idempotent)."""
    await reverse_payment(session, payment_id, reason=body.reason, reversed_at=body.reversed_at)
    return _public(await read_payment(session, payment_id))


@router.get("/loans/{loan_id}/payments", response_model=PaymentPage)
async def get_loan_payments(
    loan_id: ExternalId,
    session: SessionDep,
    cursor: Cursor | None = None,
    limit: PageLimit = 50,
) -> PaymentPage:
    """A loan's payments, reversed ones included, in the order they apply."""
    rows = await list_payments(session, loan_id, after=decode_time_cursor(cursor), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = _encode(rows[-1]) if more else None
    return PaymentPage(items=[_public(r) for r in rows], next_cursor=next_cursor)


@router.get("/loans/{loan_id}/payoff", response_model=PayoffPublic)
async def get_payoff(
    loan_id: ExternalId, session: SessionDep, as_of: CalendarDate | None = None
) -> PayoffPublic:
    """What a payment on ``as_of`` (default: the business date) must be to settle the loan."""
    quote = await quote_payoff(session, loan_id, as_of)
    a = quote.amount
    return PayoffPublic(
        loan_id=quote.loan_id,
        as_of=quote.as_of,
        currency=quote.currency,
        principal=a.principal,
        interest=a.interest,
        penalty=a.penalty,
        fees=a.fees,
        total=a.total,
    )


@router.post("/loans/{loan_id}/write-off", response_model=LoanPublic)
async def post_write_off(loan_id: ExternalId, session: SessionDep) -> LoanPublic:
    """Write an open loan off (idempotent)."""
    await write_off(session, loan_id)
    view = await read_loan(session, loan_id)
    if view is None:
        raise NotFound("loan", loan_id)
    return loan_public(view.loan, business_date=view.business_date)


def _public(payment: PaymentView) -> PaymentPublic:
    return PaymentPublic.model_validate(payment, from_attributes=True)


def _encode(payment: PaymentView) -> str:
    return encode_time_cursor(payment.paid_at, payment.payment_id)
