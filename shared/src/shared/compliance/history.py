"""What the guard is asked (:class:`ContactRequest`), what it knows (:class:`ContactHistory`, a
snapshot of the contact ledger) and what it answers (:class:`Decision`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from shared.compliance.vocabulary import (
    AttemptStatus,
    Channel,
    Outcome,
    Purpose,
    Recipient,
    Rule,
)


@dataclass(frozen=True, slots=True)
class ContactRequest:
    """One contact to decide: a strategy step, a retry, a fallback or a collector's attempt.

    ``to`` is the number or address (caps per number and invalid numbers use it);
    ``borrower_requested`` marks a call the borrower asked for in the last 7 days (a
    ``callback_requested`` outcome or a recorded consent); ``legal_escalation`` marks the
    case's transfer to legal rather than a message; ``business_on`` is the business date (notice
    periods count business dates, BRIEF decision 1; when None the borrower's local date is used).
    """

    channel: Channel
    loan_id: str
    borrower_id: str
    time_zone: str
    recipient: Recipient = Recipient.BORROWER
    purpose: Purpose = Purpose.REMINDER
    case_id: str | None = None
    to: str | None = None
    borrower_requested: bool = False
    legal_escalation: bool = False
    business_on: date | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """A contact in the ledger, from its allowed decision on (``at``: when it started)."""

    at: datetime
    channel: Channel
    loan_id: str
    status: AttemptStatus
    recipient: Recipient = Recipient.BORROWER
    to: str | None = None
    borrower_requested: bool = False


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation with the borrower about a debt: a connected call or an inbound contact."""

    at: datetime
    channel: Channel
    loan_id: str


@dataclass(frozen=True, slots=True)
class PreferredHours:
    """The hours the borrower asked to be called in, in their zone ([start, end), same day)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError("preferred hours must start before they end, within one day")


@dataclass(frozen=True, slots=True)
class ContactHistory:
    """What the contact ledger says about a borrower and the debt when a contact is decided.

    ``attempts`` and ``conversations`` cover every loan of the borrower (caps per borrower count
    them all, caps per debt only the request's loan). ``open_disputes`` and ``pending_promises``
    are loan ids. The borrower is unreachable when ``borrower_unreachable`` is set, when every
    number in ``borrower_numbers`` is in ``invalid_numbers``, or after the pack's number of
    failed attempts in a row.
    """

    attempts: tuple[Attempt, ...] = ()
    conversations: tuple[Conversation, ...] = ()
    stopped_channels: frozenset[Channel] = frozenset()
    preferred_hours: PreferredHours | None = None
    preferred_hours_consent: bool = False
    open_disputes: frozenset[str] = frozenset()
    pending_promises: frozenset[str] = frozenset()
    borrower_numbers: frozenset[str] = frozenset()
    invalid_numbers: frozenset[str] = frozenset()
    borrower_unreachable: bool = False
    attorney_known: bool = False
    first_contact_at: datetime | None = None
    validation_notice_sent_at: datetime | None = None
    legal_notice_sent_on: date | None = None
    last_payment_on: date | None = None
    time_barred_on: date | None = None
    case_closed: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """The guard's answer with its rule (None when allowed), a reason for people, and, when
    deferred, the next moment at which the contact would be allowed."""

    outcome: Outcome
    rule: Rule | None
    reason: str
    until: datetime | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOWED


ALLOWED = Decision(Outcome.ALLOWED, None, "every rule of the pack allows this contact")


def refused(rule: Rule, reason: str) -> Decision:
    return Decision(Outcome.REFUSED, rule, reason)


def deferred(rule: Rule, reason: str, until: datetime) -> Decision:
    return Decision(Outcome.DEFERRED, rule, reason, until)
