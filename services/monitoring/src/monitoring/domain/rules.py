"""Early-warning rules (预警规则): what each one watches, its parameters, and its evaluation.

A rule is data: a name, a version, integer parameters and a severity, stored and versioned by
the service. What a rule *means* is here, as pure functions of plain facts that return the
evidence an alert carries, or None when the rule stays quiet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Literal, get_args

from monitoring.domain.bureau import BureauFacts

Evidence = dict[str, object]
Params = Mapping[str, int]
Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[str, ...] = get_args(Severity)
CENT = Decimal("0.01")


class Trigger(StrEnum):
    """When a rule is evaluated."""

    PAYMENT = "payment"  # each applied payment
    END_OF_DAY = "end_of_day"  # the end-of-day batch, for its date
    BUREAU = "bureau"  # each stored bureau report
    CONTACT = "contact"  # each contact update
    PROMISE = "promise"  # each promise to pay that collections reports broken


#: Triggers whose facts monitoring keeps as history, so that a rule can be replayed over it.
BACKTESTABLE = frozenset({Trigger.PAYMENT, Trigger.END_OF_DAY, Trigger.BUREAU})


@dataclass(frozen=True)
class Param:
    name: str
    default: int
    minimum: int
    maximum: int
    description: str


@dataclass(frozen=True)
class RuleDefinition:
    name: str
    trigger: Trigger
    severity: Severity
    description: str
    params: tuple[Param, ...] = ()

    @property
    def defaults(self) -> dict[str, int]:
        return {p.name: p.default for p in self.params}

    @property
    def backtestable(self) -> bool:
        return self.trigger in BACKTESTABLE


RULES: dict[str, RuleDefinition] = {
    r.name: r
    for r in (
        RuleDefinition(
            "shrinking_repayments",
            Trigger.PAYMENT,
            "medium",
            "The last N payments each smaller than the one before, the last one below X% "
            "of the amount due.",
            (
                Param("payments", 3, 2, 12, "how many consecutive shrinking payments (N)"),
                Param("below_due_pct", 50, 1, 100, "the last payment is below this % of due (X)"),
            ),
        ),
        RuleDefinition(
            "partial_payment_at_due",
            Trigger.END_OF_DAY,
            "medium",
            "An instalment paid in part, but not in full, by its due date.",
            (Param("grace_days", 0, 0, 30, "days after the due date before checking"),),
        ),
        RuleDefinition(
            "first_payment_default",
            Trigger.END_OF_DAY,
            "high",
            "The first instalment still not fully paid when it is N days past due.",
            (Param("days_after_due", 7, 1, 180, "days past the first due date (N)"),),
        ),
        RuleDefinition(
            "bureau_score_drop",
            Trigger.BUREAU,
            "medium",
            "The bureau score fell by at least K points since the previous report.",
            (Param("min_drop_points", 50, 1, 1000, "the smallest drop that fires (K)"),),
        ),
        RuleDefinition(
            "multi_lending",
            Trigger.BUREAU,
            "medium",
            "Many credit inquiries in 30 days, or new loans elsewhere since the previous report.",
            (
                Param("min_inquiries_30d", 6, 1, 100, "inquiries in 30 days that fire"),
                Param("min_new_open_loans", 2, 1, 100, "increase in open loans that fires"),
            ),
        ),
        RuleDefinition(
            "delinquency_elsewhere",
            Trigger.BUREAU,
            "high",
            "The bureau reports delinquent accounts at other lenders.",
            (Param("min_delinquent_accounts", 1, 1, 100, "delinquent accounts that fire"),),
        ),
        RuleDefinition(
            "contact_lost",
            Trigger.CONTACT,
            "high",
            "Neither the borrower's phone nor e-mail is valid any more.",
        ),
        RuleDefinition(
            "broken_promise",
            Trigger.PROMISE,
            "high",
            "A promise to pay was broken (reported by collections).",
        ),
    )
}


class InvalidParams(ValueError):
    """Parameters a rule does not accept; ``errors`` are (field, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))
        self.errors = errors


def parse_params(
    rule: RuleDefinition, given: Mapping[str, object], base: Mapping[str, object]
) -> dict[str, int]:
    """``given`` over ``base`` (the parameters a new version starts from), checked."""
    known = {p.name: p for p in rule.params}
    errors = [(f"params.{k}", "unknown parameter") for k in given if k not in known]
    merged: dict[str, int] = {}
    for name, param in known.items():
        value = given.get(name, base.get(name, param.default))
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append((f"params.{name}", "must be an integer"))
        elif not param.minimum <= value <= param.maximum:
            errors.append(
                (f"params.{name}", f"must be between {param.minimum} and {param.maximum}")
            )
        else:
            merged[name] = value
    if errors:
        raise InvalidParams(errors)
    return merged


@dataclass(frozen=True)
class RuleVersion:
    """One stored version of a rule."""

    rule: str
    version: int
    params: dict[str, int]
    severity: Severity
    enabled: bool

    @property
    def definition(self) -> RuleDefinition:
        return RULES[self.rule]


@dataclass(frozen=True)
class StoredRuleVersion(RuleVersion):
    """A rule version as stored, with when it was created."""

    created_at: datetime


@dataclass(frozen=True)
class FiredAlert:
    """An alert a rule version fired on a loan, before it is stored: the business date it
    speaks for, and why."""

    loan_id: str
    raised_on: date
    evidence: Evidence


# --- facts the rules look at ---------------------------------------------------------------


@dataclass(frozen=True)
class PaymentWindow:
    """A loan's latest applied payments up to and including one, oldest first."""

    loan_id: str
    booked_on: date
    payment_ids: tuple[str, ...]
    amounts: tuple[Decimal, ...]
    #: The scheduled amount of the instalment the last payment went to.
    amount_due: Decimal


@dataclass(frozen=True)
class InstalmentFacts:
    """One instalment as it stood at the end of ``evaluated_on``; ``dpd`` is its loan's DPD
    as that end of day counted it, on the morning after."""

    loan_id: str
    seq: int
    due_on: date
    amount_due: Decimal
    paid: Decimal
    evaluated_on: date
    dpd: int


@dataclass(frozen=True)
class ContactState:
    phone_valid: bool
    email_valid: bool
    has_email: bool
    updated_at: datetime


@dataclass(frozen=True)
class BrokenPromise:
    promise_id: str
    promised_amount: Decimal
    promised_on: date


# --- evaluations ---------------------------------------------------------------------------


def shrinking_repayments(window: PaymentWindow, params: Params) -> Evidence | None:
    n = params["payments"]
    amounts = window.amounts[-n:]
    if len(amounts) < n or window.amount_due <= 0:
        return None
    if any(later >= earlier for earlier, later in pairwise(amounts)):
        return None
    pct = (amounts[-1] * 100 / window.amount_due).quantize(CENT, ROUND_HALF_UP)
    if pct >= params["below_due_pct"]:
        return None
    return {
        "payment_ids": list(window.payment_ids[-n:]),
        "amounts": [_money(a) for a in amounts],
        "amount_due": _money(window.amount_due),
        "last_pct_of_due": str(pct),
        "below_due_pct": params["below_due_pct"],
    }


def partial_payment_at_due(facts: InstalmentFacts, params: Params) -> Evidence | None:
    if not Decimal(0) < facts.paid < facts.amount_due:
        return None
    return _instalment_evidence(facts) | {
        "shortfall": _money(facts.amount_due - facts.paid),
        "grace_days": params["grace_days"],
    }


def first_payment_default(facts: InstalmentFacts, params: Params) -> Evidence | None:
    if facts.paid >= facts.amount_due:
        return None
    return _instalment_evidence(facts) | {
        "days_after_due": params["days_after_due"],
        "dpd": facts.dpd,
    }


def bureau_score_drop(
    current: BureauFacts, previous: BureauFacts | None, params: Params
) -> Evidence | None:
    if previous is None or previous.score - current.score < params["min_drop_points"]:
        return None
    return {
        "reported_at": current.reported_at.isoformat(),
        "score": current.score,
        "previous_reported_at": previous.reported_at.isoformat(),
        "previous_score": previous.score,
        "drop": previous.score - current.score,
    }


def multi_lending(
    current: BureauFacts, previous: BureauFacts | None, params: Params
) -> Evidence | None:
    new_loans = None if previous is None else current.open_loans - previous.open_loans
    reasons = []
    if current.inquiries_30d >= params["min_inquiries_30d"]:
        reasons.append("inquiries_30d")
    if new_loans is not None and new_loans >= params["min_new_open_loans"]:
        reasons.append("new_open_loans")
    if not reasons:
        return None
    return {
        "reported_at": current.reported_at.isoformat(),
        "reasons": reasons,
        "inquiries_30d": current.inquiries_30d,
        "open_loans": current.open_loans,
        "new_open_loans": new_loans,
    }


def delinquency_elsewhere(current: BureauFacts, params: Params) -> Evidence | None:
    if current.delinquent_accounts < params["min_delinquent_accounts"]:
        return None
    return {
        "reported_at": current.reported_at.isoformat(),
        "delinquent_accounts": current.delinquent_accounts,
        "total_debt": _money(current.total_debt),
    }


def contact_lost(state: ContactState) -> Evidence | None:
    """No channel left: the phone is invalid, and the e-mail is invalid or missing."""
    if state.phone_valid or (state.has_email and state.email_valid):
        return None
    return {
        "phone_valid": state.phone_valid,
        "email_valid": state.email_valid if state.has_email else None,
        "updated_at": state.updated_at.isoformat(),
    }


def broken_promise(promise: BrokenPromise) -> Evidence:
    return {
        "promise_id": promise.promise_id,
        "promised_amount": _money(promise.promised_amount),
        "promised_on": promise.promised_on.isoformat(),
    }


def _instalment_evidence(facts: InstalmentFacts) -> Evidence:
    return {
        "seq": facts.seq,
        "due_on": facts.due_on.isoformat(),
        "amount_due": _money(facts.amount_due),
        "paid": _money(facts.paid),
    }


def _money(amount: Decimal) -> str:
    return format(amount.quantize(CENT, ROUND_HALF_UP), "f")


def first_per_loan(fired: Sequence[FiredAlert]) -> list[FiredAlert]:
    """The fired alerts live evaluation would raise if none were resolved meanwhile: the
    first one per loan, in date order (later ones meet the loan's open alert)."""
    seen: set[str] = set()
    kept = []
    for alert in sorted(fired, key=lambda a: a.raised_on):
        if alert.loan_id not in seen:
            seen.add(alert.loan_id)
            kept.append(alert)
    return kept
