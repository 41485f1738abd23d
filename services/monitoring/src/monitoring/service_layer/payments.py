"""Use cases: receive a payment and reverse one (from the API or the ingest stream).

Both lock the loan, re-derive with the domain waterfall the allocations of the payments from
the one that arrived (or was reversed) onwards in ``(paid_at, payment_id)`` order, and store
only what changed, so that the ledger is always that of the live payments applied once each,
in order, whatever order they arrived in. The events of the change go to the outbox in the
same transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters import (
    allocations_sql,
    business_date,
    instalments_sql,
    loans_sql,
    payments_sql,
)
from monitoring.adapters.allocations_sql import Allocations
from monitoring.adapters.loans_sql import Loan
from monitoring.adapters.payments_sql import LivePayment, StoredPayment
from monitoring.domain.payoff import Parts, outstanding
from monitoring.domain.products import order_of
from monitoring.domain.waterfall import Payment, rebook
from monitoring.service_layer import SOURCE
from shared.events import (
    AllocationLine,
    CloudEvent,
    LoanClosed,
    LoanStatus,
    LoanUpdated,
    Payload,
    PaymentApplied,
    PaymentReallocated,
    PaymentReceived,
    PaymentUndone,
    make_event,
)
from shared.messaging.outbox import enqueue
from shared.problems import Conflict, NotFound, Problem

OPEN = (LoanStatus.ACTIVE.value, LoanStatus.DELINQUENT.value)


def fingerprint(payment: PaymentReceived) -> str:
    """Equal for equal payments, whatever the key order or the offset ``paid_at`` is given in."""
    body = payment.model_dump(mode="json") | {"paid_at": payment.paid_at.timestamp()}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class PaymentView:
    """A payment as stored, with what it paid on each instalment."""

    payment_id: str
    loan_id: str
    amount: Decimal
    currency: str
    paid_at: datetime
    channel: str
    status: str  # applied | reversed
    booked_on: date
    allocation: list[AllocationLine]
    unapplied: Decimal
    reversed_at: datetime | None
    reversal_reason: str | None


@dataclass(frozen=True)
class Receipt:
    """A received payment as stored, with its allocation; ``new`` unless seen before."""

    new: bool
    payment: PaymentView


async def receive_payment(session: AsyncSession, payment: PaymentReceived) -> Receipt:
    """Book and allocate a payment, or return it as booked when the same body came before.

    Raises :class:`NotFound` for an unknown loan, :class:`Conflict` when the payment id is
    taken by a different body, and a 422 :class:`Problem` for a wrong currency, a payment
    before the disbursement, or a loan that is no longer open.
    """
    if (seen := await payments_sql.find_payment(session, payment.payment_id)) is not None:
        return await _seen(session, seen, payment)
    loan = await loans_sql.load_loan(session, payment.loan_id)
    if loan is None:
        raise NotFound("loan", payment.loan_id)
    if loan.status not in OPEN:
        # A twin of this request may have settled the loan while we waited for its lock.
        if (seen := await payments_sql.find_payment(session, payment.payment_id)) is not None:
            return await _seen(session, seen, payment)
        raise _closed(loan)
    value_date = _value_date(payment.paid_at, loan)
    _check(payment, loan, value_date)
    today = await _today(session)
    # Taken meanwhile (a twin of this request, or the same id for another loan): the insert
    # waits for the twin's commit, then finds its row.
    taken = not await payments_sql.insert_payment(
        session, payment, booked_on=today, fingerprint=fingerprint(payment)
    )
    if taken:
        seen = await payments_sql.find_payment(session, payment.payment_id)
        assert seen is not None
        return await _seen(session, seen, payment)
    change = await _rebook(session, loan, today, since=(payment.paid_at, payment.payment_id))
    lines = allocation_lines(change.after[payment.payment_id])
    unapplied = change.unapplied[payment.payment_id]
    event = PaymentApplied(
        payment_id=payment.payment_id,
        loan_id=payment.loan_id,
        amount=payment.amount,
        currency=payment.currency,
        paid_at=payment.paid_at,
        booked_on=today,
        allocation=lines,
        unapplied=unapplied,
        outstanding_total=change.outstanding_after,
    )
    events = change.events(loan, today, cause=payment.payment_id)
    await enqueue(session, [_event(event, loan), *events])
    stored = PaymentView(
        payment_id=payment.payment_id,
        loan_id=payment.loan_id,
        amount=payment.amount,
        currency=payment.currency,
        paid_at=payment.paid_at.astimezone(UTC),  # as the database gives it back
        channel=payment.channel,
        status="applied",
        booked_on=today,
        allocation=lines,
        unapplied=unapplied,
        reversed_at=None,
        reversal_reason=None,
    )
    return Receipt(True, stored)


async def reverse_payment(
    session: AsyncSession,
    payment_id: str,
    *,
    reason: str,
    reversed_at: datetime,
    loan_id: str | None = None,
) -> bool:
    """Reverse a payment, re-opening what it paid; False if it was reversed so before.

    Raises :class:`NotFound` for an unknown payment, :class:`Conflict` when it was reversed
    with another reason or time, and a 422 :class:`Problem` when ``loan_id`` is not the
    payment's loan, the reversal predates the payment, or the loan was written off.
    """
    found = await payments_sql.find_payment(session, payment_id)
    if found is None:
        raise NotFound("payment", payment_id)
    if loan_id is not None and loan_id != found.loan_id:
        raise _invalid(
            "Wrong loan", f"payment {payment_id!r} is not of loan {loan_id!r}", "loan_id"
        )
    loan = await loans_sql.load_loan(session, found.loan_id)
    assert loan is not None  # a payment's loan exists (foreign key)
    payment = await payments_sql.find_payment(
        session, payment_id
    )  # again, now that the loan is locked
    assert payment is not None
    if payment.status == "reversed":
        if (payment.reversal_reason, payment.reversed_at) == (reason, reversed_at):
            return False
        raise Conflict(f"payment {payment_id!r} was reversed before with another reason or time")
    if reversed_at < payment.paid_at:
        raise _invalid("Reversed before paid", "reversed_at is before paid_at", "reversed_at")
    if loan.status not in (*OPEN, LoanStatus.SETTLED.value):
        raise _closed(loan)
    today = await _today(session)
    since = (payment.paid_at, payment_id)
    change = await _rebook(session, loan, today, since=since, reversed_id=payment_id)
    await payments_sql.mark_reversed(session, payment_id, reversed_at=reversed_at, reason=reason)
    event = PaymentUndone(
        payment_id=payment_id,
        loan_id=loan.loan_id,
        reversed_at=reversed_at,
        booked_on=today,
        allocation=allocation_lines(change.before[payment_id]),
        outstanding_total=change.outstanding_after,
    )
    await enqueue(session, [_event(event, loan), *change.events(loan, today, cause=payment_id)])
    return True


async def read_payment(session: AsyncSession, payment_id: str) -> PaymentView:
    """A payment with its allocation; :class:`NotFound` when unknown."""
    payment = await payments_sql.find_payment(session, payment_id)
    if payment is None:
        raise NotFound("payment", payment_id)
    lines = (await allocations_sql.allocations(session, [payment_id]))[payment_id]
    return _view(payment, lines)


async def list_payments(
    session: AsyncSession, loan_id: str, *, after: tuple[datetime, str] | None, limit: int
) -> list[PaymentView]:
    """A loan's payments with their allocations, in the order they apply."""
    if not await loans_sql.loan_exists(session, loan_id):
        raise NotFound("loan", loan_id)
    rows = await payments_sql.payments_of(session, loan_id, after=after, limit=limit)
    lines = await allocations_sql.allocations(session, [r.payment_id for r in rows])
    return [_view(r, lines[r.payment_id]) for r in rows]


def _view(p: StoredPayment, lines: dict[int, Parts]) -> PaymentView:
    return PaymentView(
        payment_id=p.payment_id,
        loan_id=p.loan_id,
        amount=p.amount,
        currency=p.currency,
        paid_at=p.paid_at,
        channel=p.channel,
        status=p.status,
        booked_on=p.booked_on,
        allocation=allocation_lines(lines),
        unapplied=p.unapplied,
        reversed_at=p.reversed_at,
        reversal_reason=p.reversal_reason,
    )


def allocation_lines(lines: dict[int, Parts]) -> list[AllocationLine]:
    return [
        AllocationLine(
            seq=seq,
            penalty=p.penalty,
            fees=p.fees,
            interest=p.interest,
            principal=p.principal,
        )
        for seq, p in sorted(lines.items())
    ]


# --- re-deriving a loan's allocations --------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """What re-deriving changed: allocations before and after, balances, the loan's status."""

    before: Allocations
    after: Allocations
    unapplied: dict[str, Decimal]
    status: str
    outstanding_before: Decimal
    outstanding_after: Decimal

    def events(self, loan: Loan, today: date, *, cause: str) -> list[CloudEvent]:
        """``payment.reallocated`` for each other payment whose allocation moved,
        ``loan.updated`` when status or balance moved, ``loan.closed`` when it settled."""
        events = [
            _event(
                PaymentReallocated(
                    payment_id=payment_id,
                    loan_id=loan.loan_id,
                    booked_on=today,
                    allocation=allocation_lines(lines),
                    previous=allocation_lines(self.before[payment_id]),
                    caused_by=cause,
                ),
                loan,
            )
            for payment_id, lines in self.after.items()
            if payment_id != cause and lines != self.before[payment_id]
        ]
        moved = self.outstanding_after != self.outstanding_before
        if self.status != loan.status or moved:
            update = LoanUpdated(
                loan_id=loan.loan_id,
                status=LoanStatus(self.status),
                dpd=loan.dpd,
                bucket=loan.bucket,
                outstanding_total=self.outstanding_after,
                business_date=today,
            )
            events.append(_event(update, loan))
        if self.status == LoanStatus.SETTLED and loan.status != LoanStatus.SETTLED:
            closed = LoanClosed(loan_id=loan.loan_id, status=LoanStatus.SETTLED, closed_on=today)
            events.append(_event(closed, loan))
        return events


async def _rebook(
    session: AsyncSession,
    loan: Loan,
    today: date,
    *,
    since: tuple[datetime, str],
    reversed_id: str | None = None,
) -> Change:
    """Re-derive the allocations of the live payments from ``since`` on, and store the change."""
    live = await payments_sql.live_payments(session, loan.loan_id)
    later = [p for p in live if (p.paid_at, p.payment_id) >= since]
    before = await allocations_sql.allocations(session, [p.payment_id for p in later])
    dues = await instalments_sql.dues(session, loan)
    done = rebook(
        dues,
        before,
        [_payment(p, loan) for p in later if p.payment_id != reversed_id],
        order=order_of(loan.waterfall),
        settled=await _settled_earlier(session, loan, live, since),
    )
    after = {a.payment_id: {line.seq: line.paid for line in a.lines} for a in done.allocations}
    await allocations_sql.save_allocations(session, loan.loan_id, before=before, after=after)
    await instalments_sql.add_paid(
        session,
        loan.loan_id,
        {d.seq: d.paid - b.paid for d, b in zip(done.dues, dues, strict=True)},
    )
    stored = {p.payment_id: p.unapplied for p in later}
    unapplied = {a.payment_id: a.unapplied for a in done.allocations}
    await payments_sql.set_unapplied(
        session, {pid: u for pid, u in unapplied.items() if stored[pid] != u}
    )
    status = _status(loan, settled=done.settled)
    if status != loan.status:
        await loans_sql.set_status(session, loan.loan_id, status)
    was_settled = loan.status == LoanStatus.SETTLED
    return Change(
        before=before,
        after=after,
        unapplied=unapplied,
        status=status,
        outstanding_before=outstanding(dues, today, settled=was_settled).total,
        outstanding_after=outstanding(done.dues, today, settled=done.settled).total,
    )


async def _settled_earlier(
    session: AsyncSession, loan: Loan, live: list[LivePayment], since: tuple[datetime, str]
) -> bool:
    """Whether a payment before ``since`` settled the loan: the last one that paid anything."""
    if loan.status != LoanStatus.SETTLED:
        return False
    lines = await allocations_sql.allocations(session, [p.payment_id for p in live])
    paying = [(p.paid_at, p.payment_id) for p in live if lines[p.payment_id]]
    return bool(paying) and paying[-1] < since


def _status(loan: Loan, *, settled: bool) -> str:
    if settled:
        return LoanStatus.SETTLED.value
    if loan.status == LoanStatus.SETTLED:  # re-opened: delinquency is the end of day's to judge
        return (LoanStatus.DELINQUENT if loan.dpd > 0 else LoanStatus.ACTIVE).value
    return loan.status


def _payment(p: LivePayment, loan: Loan) -> Payment:
    return Payment(p.payment_id, p.amount, p.paid_at, _value_date(p.paid_at, loan))


def _value_date(paid_at: datetime, loan: Loan) -> date:
    """The day a payment was made, in the borrower's time zone."""
    return paid_at.astimezone(ZoneInfo(loan.time_zone)).date()


# --- checks ----------------------------------------------------------------------------------


async def _seen(session: AsyncSession, stored: StoredPayment, payment: PaymentReceived) -> Receipt:
    if stored.fingerprint != fingerprint(payment):
        raise Conflict(
            f"payment {payment.payment_id!r} was received before with a different body",
            payment_id=payment.payment_id,
        )
    lines = (await allocations_sql.allocations(session, [payment.payment_id]))[payment.payment_id]
    return Receipt(False, _view(stored, lines))


def _check(payment: PaymentReceived, loan: Loan, value_date: date) -> None:
    if payment.currency != loan.currency:
        detail = f"loan {loan.loan_id!r} is in {loan.currency}"
        raise _invalid("Wrong currency", detail, "currency", f"must be {loan.currency}")
    if value_date < loan.disbursed_on:
        detail = f"paid on {value_date}, before the disbursement on {loan.disbursed_on}"
        raise _invalid("Paid before disbursement", detail, "paid_at")


async def _today(session: AsyncSession) -> date:
    today = await business_date.current(session)
    assert today is not None  # set when the first loan was registered
    return today


def _closed(loan: Loan) -> Problem:
    return _invalid("Loan closed", f"loan {loan.loan_id!r} is {loan.status}", "loan_id")


def _invalid(title: str, detail: str, field: str, message: str | None = None) -> Problem:
    return Problem(422, title, detail, errors=[{"field": field, "message": message or detail}])


def _event(payload: Payload, loan: Loan) -> CloudEvent:
    return make_event(payload, source=SOURCE, subject=loan.loan_id, domain="monitoring")
