"""Offers: what may be taken off a debt, who may approve it, and how an offer moves on.

An offer's ``amount`` is what comes off the debt (BRIEF decision 11). One transition table says
how it moves; approval limits are data (a role's largest amount, and for some a share of the
outstanding); a person grants an offer within their own limit by making it (it is born
``approved``), above it the offer waits for someone else whose limit covers it — nobody
approves an offer they made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from shared.events import OfferKind

ZERO = Decimal("0.00")


class Status(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    ACCEPTED = "accepted"
    BOOKED = "booked"
    REFUSED = "refused"
    EXPIRED = "expired"
    REJECTED = "rejected"  # the ledger could not book it (the loan owes less of that kind)


class Event(StrEnum):
    APPROVE = "approve"
    ACCEPT = "accept"
    REFUSE = "refuse"
    EXPIRE = "expire"
    BOOKED = "booked"
    REJECTED = "rejected"


S, E = Status, Event
#: The state machine of an offer: (status, event) → the next status.
TRANSITIONS: dict[tuple[Status, Event], Status] = {
    (S.PENDING_APPROVAL, E.APPROVE): S.APPROVED,
    (S.PENDING_APPROVAL, E.REFUSE): S.REFUSED,
    (S.PENDING_APPROVAL, E.EXPIRE): S.EXPIRED,
    (S.APPROVED, E.ACCEPT): S.ACCEPTED,
    (S.APPROVED, E.REFUSE): S.REFUSED,
    (S.APPROVED, E.EXPIRE): S.EXPIRED,
    (S.ACCEPTED, E.BOOKED): S.BOOKED,
    (S.ACCEPTED, E.REJECTED): S.REJECTED,
}
#: Ends in which reserved points go back to the borrower.
RETURNS_POINTS = frozenset({S.REFUSED, S.EXPIRED, S.REJECTED})


def next_status(status: Status, event: Event) -> Status | None:
    """The status after ``event``, or None when it does not apply to ``status``."""
    return TRANSITIONS.get((status, event))


# --- approval limits -----------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """What one role may grant: up to ``max_amount`` and ``max_share`` of the outstanding
    (None: no bound of that kind)."""

    max_amount: Decimal | None = None
    max_share: Decimal | None = None

    def covers(self, amount: Decimal, outstanding: Decimal | None) -> bool:
        if self.max_amount is not None and amount > self.max_amount:
            return False
        if self.max_share is None:
            return True
        # A share of an outstanding collections has not heard of yet cannot be judged.
        return outstanding is not None and amount <= self.max_share * outstanding


#: BRIEF decision 11's defaults; ``POSTLOAN_OFFER_APPROVAL_LIMITS`` replaces them.
DEFAULT_LIMITS: dict[str, Limit] = {
    "collector": Limit(max_amount=Decimal("200.00")),
    "supervisor": Limit(max_amount=Decimal("5000.00"), max_share=Decimal("0.30")),
    "admin": Limit(),
}


def limits_from(document: Mapping[str, Mapping[str, object]]) -> dict[str, Limit]:
    """Parse ``{"collector": {"max_amount": "200.00"}, ...}``; every mistake is reported."""
    if not document:
        return dict(DEFAULT_LIMITS)
    limits, errors = {}, []
    for role, terms in document.items():
        unknown = set(terms) - {"max_amount", "max_share"}
        if unknown:
            errors.append(f"{role}: unknown keys {sorted(unknown)}")
            continue
        try:
            amount, share = (_decimal(terms.get(k)) for k in ("max_amount", "max_share"))
        except ArithmeticError:
            errors.append(f"{role}: limits must be decimal strings")
            continue
        limits[role] = Limit(max_amount=amount, max_share=share)
    if errors:
        raise ValueError("; ".join(errors))
    return limits


def _decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    found = Decimal(str(value))
    if not found.is_finite() or found < 0:
        raise ArithmeticError(value)
    return found


def may_grant(
    limits: Mapping[str, Limit], roles: Iterable[str], amount: Decimal, outstanding: Decimal | None
) -> str | None:
    """The first of ``roles`` whose limit covers ``amount``, or None."""
    for role in sorted(set(roles)):
        limit = limits.get(role)
        if limit is not None and limit.covers(amount, outstanding):
            return role
    return None


# --- the policy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferPolicy:
    """Collections' configurable terms for offers and incentives."""

    limits: dict[str, Limit] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    #: A loan that cures within this many business days of its case opening has the penalty
    #: it paid waived, automatically.
    quick_cure_days: int = 7
    #: Points earned for each instalment paid in full on or before its due date.
    points_per_instalment: int = 10
    #: What one point takes off interest when redeemed.
    point_value: Decimal = Decimal("0.50")


# --- what an offer must say ----------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """An offer as asked for, before it is checked."""

    kind: OfferKind
    amount: Decimal | None
    expires_on: date
    pay_amount: Decimal | None = None
    schedule: tuple[tuple[Decimal, date], ...] | None = None
    points: int | None = None


def check(proposal: Proposal, today: date, policy: OfferPolicy) -> list[tuple[str, str]]:
    """Every mistake of ``proposal`` as ``(field, message)``; empty when it may be made."""
    p, errors = proposal, []
    if p.expires_on < today:
        errors.append(("expires_on", f"before the business date {today.isoformat()}"))
    if p.kind is OfferKind.POINTS_REDEMPTION:
        if p.points is None or p.points <= 0:
            errors.append(("points", "a points redemption names a positive number of points"))
        elif p.amount is not None and p.amount != p.points * policy.point_value:
            errors.append(
                ("amount", f"{p.points} points are worth {p.points * policy.point_value}")
            )
    elif p.points is not None:
        errors.append(("points", "only a points_redemption redeems points"))
    if p.kind is not OfferKind.POINTS_REDEMPTION and p.amount is None:
        errors.append(("amount", "required"))
    floor_ok = p.kind is OfferKind.INSTALMENT_PLAN  # a plan may take nothing off
    if p.amount is not None and (p.amount < ZERO or (p.amount == ZERO and not floor_ok)):
        errors.append(("amount", "must be positive"))
    errors += _settlement_errors(p) + _plan_errors(p, today)
    return errors


def _settlement_errors(p: Proposal) -> list[tuple[str, str]]:
    if p.kind is not OfferKind.SETTLEMENT:
        return [] if p.pay_amount is None else [("pay_amount", "only a settlement has one")]
    if p.pay_amount is None or p.pay_amount <= ZERO:
        return [("pay_amount", "a settlement says what the borrower pays, a positive amount")]
    return []


def _plan_errors(p: Proposal, today: date) -> list[tuple[str, str]]:
    if p.kind is not OfferKind.INSTALMENT_PLAN:
        return [] if p.schedule is None else [("schedule", "only an instalment_plan has one")]
    if not p.schedule:
        return [("schedule", "a plan has at least one instalment")]
    errors = []
    previous: date | None = None
    for i, (amount, due_on) in enumerate(p.schedule):
        if amount <= ZERO:
            errors.append((f"schedule[{i}].amount", "must be positive"))
        if due_on < today or (previous is not None and due_on <= previous):
            errors.append((f"schedule[{i}].due_on", "after the business date and the one before"))
        previous = due_on
    return errors


def amount_of(proposal: Proposal, policy: OfferPolicy) -> Decimal:
    """What the offer takes off the debt (a redemption's points at their value)."""
    if proposal.kind is OfferKind.POINTS_REDEMPTION:
        assert proposal.points is not None  # checked
        return (proposal.points * policy.point_value).quantize(Decimal("0.01"))
    assert proposal.amount is not None  # checked
    return proposal.amount


def quick_cure(opened_on: date, cured_on: date, policy: OfferPolicy) -> bool:
    """Whether a case that opened on ``opened_on`` and cured on ``cured_on`` cured quickly."""
    return (cured_on - opened_on).days <= policy.quick_cure_days


def on_time(paid_on: date, due_on: date) -> bool:
    """An instalment paid in full on or before its due date (business dates) is on time."""
    return paid_on <= due_on
