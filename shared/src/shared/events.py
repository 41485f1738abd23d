"""The event envelope and the whole event catalogue: the contract between services.

Every event travels as a CloudEvents 1.0 envelope in JSON structured mode. Its ``type`` is
``postloan.<domain>.<name>.v1``; it is published on the NATS subject ``postloan.<domain>.<name>``
with ``Nats-Msg-Id`` set to its ``id``. Inbound events from other systems use the ``ingest``
domain and carry exactly the body accepted by the matching HTTP endpoint.

To add an event: define its payload model below and add one :class:`EventSpec` to
:data:`CATALOGUE`; ``make asyncapi`` regenerates ``docs/asyncapi.yaml`` from it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from shared import envelope
from shared.params import CalendarDate, Count, Instant
from shared.types import (
    CurrencyCode,
    EmailAddress,
    ExternalId,
    Locale,
    Money,
    NonNegativeMoney,
    PhoneNumber,
    PositiveMoney,
    Rate,
    RepaymentMethod,
    TimeZoneName,
)


class Payload(BaseModel):
    """Base of every event payload: strict about unknown fields, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL in text: refuse it here rather than fail on insert.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


# --- inbound (ingest) payloads -------------------------------------------------------------

#: Who a contact is addressed to (BRIEF decision 5); ``ContactRequested.recipient`` names one.
Recipient = Literal["borrower", "guarantor", "co_signer", "spouse", "attorney", "contact_person"]
#: The recipients other than the borrower, whose details arrive as ``contacts[]``.
ThirdParty = Literal["guarantor", "co_signer", "spouse", "attorney", "contact_person"]
#: One printed line of a postal address: no line breaks (a break is a new line), no NUL.
AddressLine = Annotated[
    str, StringConstraints(min_length=1, max_length=120, pattern=r"^[^\r\n\x00]+$")
]


class PostalAddress(Payload):
    """Where letters go (BRIEF decision 6): the lines as the envelope shows them, in the order
    the country writes them (big to small in China: province, city, street, building; small to
    big in the US), then the postal code and the country (ISO 3166-1 alpha-2), both optional."""

    lines: list[AddressLine] = Field(min_length=1, max_length=5)
    postal_code: str | None = Field(default=None, min_length=1, max_length=20)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class Contact(Payload):
    """Someone other than the borrower who may be contacted about the borrower's debts (BRIEF
    decision 5): a guarantor, co-signer, spouse, attorney or contact person. ``contact_id`` is
    the lender's id of the person, when it has one."""

    contact_id: ExternalId | None = None
    recipient: ThirdParty
    name: str = Field(min_length=1, max_length=200)
    phone: PhoneNumber | None = None
    email: EmailAddress | None = None
    address: PostalAddress | None = None


def _distinct_ids(contacts: list[Contact]) -> list[Contact]:
    ids = [c.contact_id for c in contacts if c.contact_id is not None]
    if len(ids) != len(set(ids)):
        raise ValueError("contact_id must be distinct")
    return contacts


#: A borrower's contacts, whole: the list replaces the one known before (None: unchanged).
Contacts = Annotated[list[Contact], Field(max_length=20), AfterValidator(_distinct_ids)]


class Borrower(Payload):
    borrower_id: ExternalId
    name: str = Field(min_length=1, max_length=200)
    phone: PhoneNumber
    email: EmailAddress | None = None
    national_id: str | None = Field(default=None, min_length=6, max_length=32)
    time_zone: TimeZoneName
    locale: Locale = "zh-CN"
    address: PostalAddress | None = None


class ScheduledInstalment(Payload):
    seq: int = Field(ge=1, le=600)
    due_on: CalendarDate
    principal: NonNegativeMoney
    interest: NonNegativeMoney
    fees: NonNegativeMoney = Decimal("0.00")


class LoanRegistered(Payload):
    """A disbursed loan handed over to post-loan management (also ``POST /api/v1/loans``)."""

    loan_id: ExternalId
    product: ExternalId = "default"
    borrower: Borrower
    principal: PositiveMoney
    currency: CurrencyCode = "CNY"
    annual_rate: Rate
    term_months: int = Field(ge=1, le=600)
    repayment_method: RepaymentMethod
    disbursed_on: CalendarDate
    first_due_on: CalendarDate | None = None
    schedule: list[ScheduledInstalment] | None = Field(default=None, min_length=1, max_length=600)
    #: The day the debt becomes time-barred, when the lender knows it (a portfolio bought or
    #: migrated with its limitation dates); without it the pack counts from the last payment.
    time_barred_on: date | None = None
    #: The borrower's other contacts (guarantor, attorney ...), whole; None leaves them as known.
    contacts: Contacts | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> LoanRegistered:
        if self.first_due_on is not None and self.first_due_on <= self.disbursed_on:
            raise ValueError("first_due_on must be after disbursed_on")
        if self.schedule is not None:
            if sorted(i.seq for i in self.schedule) != list(range(1, self.term_months + 1)):
                raise ValueError("schedule must number its instalments 1 to term_months")
            if sum(i.principal for i in self.schedule) != self.principal:
                raise ValueError("schedule principal must sum to the loan principal")
        return self


class PaymentReceived(Payload):
    payment_id: ExternalId
    loan_id: ExternalId
    amount: PositiveMoney
    currency: CurrencyCode = "CNY"
    paid_at: Instant
    channel: str = Field(min_length=1, max_length=40)


class PaymentReversed(Payload):
    payment_id: ExternalId
    loan_id: ExternalId
    reversed_at: Instant
    reason: str = Field(min_length=1, max_length=200)


class BureauReported(Payload):
    borrower_id: ExternalId
    reported_at: Instant
    score: int = Field(ge=0, le=1000)
    inquiries_30d: Count
    open_loans: Count
    total_debt: NonNegativeMoney
    delinquent_accounts: Count


class ContactUpdated(Payload):
    borrower_id: ExternalId
    updated_at: Instant
    phone: PhoneNumber | None = None
    email: EmailAddress | None = None
    phone_valid: bool | None = None
    email_valid: bool | None = None
    time_zone: TimeZoneName | None = None
    locale: Locale | None = None
    # A device's push token (BRIEF decision 9): where notify sends the borrower's push messages.
    push_token: str | None = Field(default=None, min_length=1, max_length=4096)
    address: PostalAddress | None = None
    #: The borrower's other contacts, whole (``[]``: none any more); None leaves them as known.
    contacts: Contacts | None = None


# --- internal payloads ---------------------------------------------------------------------


class LoanStatus(StrEnum):
    ACTIVE = "active"
    DELINQUENT = "delinquent"
    SETTLED = "settled"
    WRITTEN_OFF = "written_off"
    CLOSED = "closed"


class LoanAccepted(LoanRegistered):
    """Monitoring's record of a newly registered loan, with the ids other services key on."""

    first_due_on: date  # always resolved by monitoring
    status: LoanStatus = LoanStatus.ACTIVE
    jurisdiction: str = Field(default="cn", pattern=r"^[a-z]{2}$")


class LoanUpdated(Payload):
    loan_id: ExternalId
    status: LoanStatus
    dpd: int = Field(ge=0)
    bucket: str
    outstanding_total: Money
    business_date: date


class AllocationLine(Payload):
    """What a payment paid on one instalment."""

    seq: int = Field(ge=1)
    penalty: NonNegativeMoney
    fees: NonNegativeMoney
    interest: NonNegativeMoney
    principal: NonNegativeMoney


class PaymentApplied(Payload):
    payment_id: ExternalId
    loan_id: ExternalId
    amount: PositiveMoney
    currency: CurrencyCode
    paid_at: AwareDatetime
    booked_on: date
    allocation: list[AllocationLine]
    unapplied: NonNegativeMoney
    outstanding_total: Money


class PaymentUndone(Payload):
    """A payment reversed: the instalments it paid are open again."""

    payment_id: ExternalId
    loan_id: ExternalId
    reversed_at: AwareDatetime
    booked_on: date
    allocation: list[AllocationLine]
    outstanding_total: Money


class PaymentReallocated(Payload):
    """A payment booked earlier now pays other instalments: one before it in the order of
    payments was reversed, or arrived late. ``allocation`` is what it pays from now on,
    ``previous`` what it paid before; ``caused_by`` the payment whose arrival or reversal
    moved it."""

    payment_id: ExternalId
    loan_id: ExternalId
    booked_on: date
    allocation: list[AllocationLine]
    previous: list[AllocationLine]
    caused_by: ExternalId


class BureauRecorded(BureauReported):
    """A bureau report monitoring has stored (scoring takes its features from here)."""


class EodCompleted(Payload):
    run_id: uuid.UUID
    as_of: date
    business_date: date
    loans_total: int = Field(ge=0)
    transitions: int = Field(ge=0)


class DelinquencyChanged(Payload):
    loan_id: ExternalId
    borrower_id: ExternalId
    business_date: date
    dpd_before: int = Field(ge=0)
    dpd: int = Field(ge=0)
    bucket_before: str
    bucket: str
    overdue_amount: Money


class AlertRaised(Payload):
    alert_id: uuid.UUID
    loan_id: ExternalId
    rule: str
    rule_version: int = Field(ge=1)
    severity: Literal["low", "medium", "high", "critical"]
    evidence: dict[str, Any]
    raised_at: AwareDatetime


class LoanClosed(Payload):
    loan_id: ExternalId
    status: LoanStatus
    closed_on: date


class ReasonCode(Payload):
    code: str
    description: str
    points_lost: int


class ScoreUpdated(Payload):
    loan_id: ExternalId
    pd: Decimal = Field(ge=0, le=1, max_digits=6, decimal_places=4)
    score: int
    tier: Literal["A", "B", "C", "D", "E"]
    model_version: str
    reasons: list[ReasonCode]
    scored_at: AwareDatetime


class ModelDrift(Payload):
    """A model's live population moved away from its development sample (PSI/CSI)."""

    model_version: str
    as_of: date
    status: Literal["warn", "act"]
    score_psi: float = Field(ge=0)
    characteristics: dict[str, float]  # CSI of each characteristic beyond the warn threshold


class ModelPromoted(Payload):
    """The champion model changed (a promotion or a rollback)."""

    model_version: str
    previous_version: str | None
    action: Literal["promoted", "rolled_back"]
    actor: str


class CaseOpened(Payload):
    case_id: uuid.UUID
    loan_id: ExternalId
    borrower_id: ExternalId
    bucket: str
    opened_on: date


class CaseClosed(Payload):
    case_id: uuid.UUID
    loan_id: ExternalId
    reason: Literal["cured", "paid_off", "settled", "written_off", "legal"]
    closed_on: date


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    PUSH = "push"
    VOICE = "voice"
    LETTER = "letter"


class ContactRequested(Payload):
    """A contact the guard allowed; ``request_id`` is notify's idempotency key, derived so that
    a step re-run after a crash requests the same message (BRIEF section 5)."""

    request_id: uuid.UUID
    case_id: uuid.UUID | None
    loan_id: ExternalId
    borrower_id: ExternalId
    recipient: Recipient = "borrower"
    channel: Channel
    template_id: str = Field(min_length=1, max_length=100)
    variables: dict[str, str]
    pack: str = Field(min_length=1, max_length=20)
    pack_version: int = Field(ge=1)


class ComplianceBreach(Payload):
    """A collector or an outside agency reported an outbound contact the guard would have
    refused (BRIEF decision 3): it is recorded and counted, and this alert says which rule it
    broke (``outcome_id``: the collector's outcome, or the agency's action)."""

    case_id: uuid.UUID
    loan_id: ExternalId
    outcome_id: uuid.UUID
    rule: str
    channel: str
    contacted_at: AwareDatetime


class PromiseBroken(Payload):
    promise_id: uuid.UUID
    loan_id: ExternalId
    promised_amount: PositiveMoney
    promised_on: date


class OfferKind(StrEnum):
    """What an offer takes off a debt (BRIEF decision 11)."""

    PENALTY_WAIVER = "penalty_waiver"
    INTEREST_DISCOUNT = "interest_discount"
    SETTLEMENT = "settlement"
    INSTALMENT_PLAN = "instalment_plan"
    POINTS_REDEMPTION = "points_redemption"


class OfferAccepted(Payload):
    """A borrower accepted an approved offer: monitoring books ``amount`` off the loan once
    (keyed on ``offer_id``) and answers with ``adjustment.booked`` or ``adjustment.rejected``."""

    offer_id: uuid.UUID
    loan_id: ExternalId
    borrower_id: ExternalId
    kind: OfferKind
    amount: NonNegativeMoney
    accepted_on: date


class AdjustmentBooked(Payload):
    """Monitoring took an accepted offer's ``amount`` off what the loan owes; ``lines`` is what
    came off each instalment, by part, and ``outstanding_total`` the balance after it."""

    offer_id: uuid.UUID
    loan_id: ExternalId
    kind: OfferKind
    amount: NonNegativeMoney
    booked_on: date
    lines: list[AllocationLine]
    outstanding_total: Money


class AdjustmentRejected(Payload):
    """Monitoring could not book an accepted offer (the loan is closed, or owes less of what
    the offer's kind may take off than its amount); nothing changed."""

    offer_id: uuid.UUID
    loan_id: ExternalId
    kind: OfferKind
    amount: NonNegativeMoney
    reason: str = Field(min_length=1, max_length=300)


class PackActivated(Payload):
    """A compliance pack version became the one every later decision uses (notify follows)."""

    pack: str = Field(min_length=1, max_length=20)
    version: int = Field(ge=1)


class PreferencesChanged(Payload):
    """A borrower's contact preferences, whole, as they hold from now (notify mirrors them)."""

    borrower_id: ExternalId
    stopped_channels: list[str]
    preferred_hours: dict[str, str] | None = None  # {"from": "19:00", "to": "21:30"}
    consent: bool = False


class DisputeChanged(Payload):
    """A dispute opened (collection on the loan freezes) or was resolved."""

    dispute_id: uuid.UUID
    loan_id: ExternalId
    borrower_id: ExternalId
    status: Literal["open", "resolved"]
    resolution: Literal["upheld", "rejected"] | None = None


class DisputeOpened(DisputeChanged):
    """A dispute opened: collection on the loan is frozen until it is resolved."""


class DisputeResolved(DisputeChanged):
    """A dispute was resolved (upheld or rejected): collection may resume."""


class DishonestDebtorFlagged(Payload):
    """A court judgment for the lender was recorded on a case's legal file: the borrower is
    flagged as a dishonest debtor (失信被执行人) on that debt."""

    case_id: uuid.UUID
    legal_file_id: uuid.UUID
    loan_id: ExternalId
    borrower_id: ExternalId
    court: str
    court_case_number: str
    judgment_on: date
    judgment_amount: PositiveMoney


class DeliveryUpdated(Payload):
    message_id: uuid.UUID
    request_id: uuid.UUID | None
    borrower_id: ExternalId
    channel: Channel
    status: Literal["queued", "deferred", "sending", "sent", "delivered", "failed", "blocked"]
    reason: str | None = None


class AuditHeadExported(Payload):
    """The gateway's audit chain reached this entry: keep it, to catch a rewrite of the chain."""

    sequence: int = Field(ge=0)
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    exported_at: AwareDatetime


# --- the catalogue -------------------------------------------------------------------------


@dataclass(frozen=True)
class EventSpec:
    """One entry of the catalogue: a versioned event type and what it carries."""

    domain: str
    name: str
    version: int
    payload: type[Payload]
    producer: str
    summary: str

    @property
    def type(self) -> str:
        return f"postloan.{self.domain}.{self.name}.v{self.version}"

    @property
    def subject(self) -> str:
        return f"postloan.{self.domain}.{self.name}"

    @property
    def stream(self) -> str:
        return stream_for_domain(self.domain)


def stream_for_domain(domain: str) -> str:
    return f"POSTLOAN_{domain.upper()}"


def _spec(domain: str, name: str, payload: type[Payload], producer: str, summary: str) -> EventSpec:
    return EventSpec(domain, name, 1, payload, producer, summary)


CATALOGUE: tuple[EventSpec, ...] = (
    _spec(
        "ingest", "loan.registered", LoanRegistered, "lender systems", "A disbursed loan to manage."
    ),
    _spec("ingest", "payment.received", PaymentReceived, "payment gateways", "A repayment."),
    _spec("ingest", "payment.reversed", PaymentReversed, "payment gateways", "A repayment undone."),
    _spec(
        "ingest", "bureau.reported", BureauReported, "bureau adapters", "A credit bureau report."
    ),
    _spec("ingest", "contact.updated", ContactUpdated, "lender systems", "Borrower contact data."),
    _spec(
        "monitoring", "loan.registered", LoanAccepted, "monitoring", "A loan entered the ledger."
    ),
    _spec("monitoring", "loan.updated", LoanUpdated, "monitoring", "A loan's state changed."),
    _spec(
        "monitoring", "delinquency.changed", DelinquencyChanged, "monitoring", "DPD bucket moved."
    ),
    _spec("monitoring", "payment.applied", PaymentApplied, "monitoring", "A payment was booked."),
    _spec("monitoring", "payment.reversed", PaymentUndone, "monitoring", "A payment was undone."),
    _spec(
        "monitoring",
        "payment.reallocated",
        PaymentReallocated,
        "monitoring",
        "An earlier payment's allocation moved.",
    ),
    _spec("monitoring", "bureau.recorded", BureauRecorded, "monitoring", "A bureau report stored."),
    _spec("monitoring", "eod.completed", EodCompleted, "monitoring", "A business day closed."),
    _spec("monitoring", "alert.raised", AlertRaised, "monitoring", "An early warning fired."),
    _spec("monitoring", "loan.closed", LoanClosed, "monitoring", "A loan left the book."),
    _spec(
        "monitoring",
        "adjustment.booked",
        AdjustmentBooked,
        "monitoring",
        "An accepted offer was booked off a loan.",
    ),
    _spec(
        "monitoring",
        "adjustment.rejected",
        AdjustmentRejected,
        "monitoring",
        "An accepted offer could not be booked.",
    ),
    _spec(
        "scoring", "score.updated", ScoreUpdated, "scoring", "A loan's PD, score or tier changed."
    ),
    _spec("scoring", "model.drifted", ModelDrift, "scoring", "A model's population drifted."),
    _spec("scoring", "model.promoted", ModelPromoted, "scoring", "The champion model changed."),
    _spec("collections", "case.opened", CaseOpened, "collections", "A collection case opened."),
    _spec("collections", "case.closed", CaseClosed, "collections", "A collection case closed."),
    _spec(
        "collections", "contact.requested", ContactRequested, "collections", "Contact a borrower."
    ),
    _spec(
        "collections",
        "promise.broken",
        PromiseBroken,
        "collections",
        "A promise to pay was missed.",
    ),
    _spec(
        "collections",
        "compliance.breach",
        ComplianceBreach,
        "collections",
        "A contact broke a rule of the pack.",
    ),
    _spec(
        "collections",
        "offer.accepted",
        OfferAccepted,
        "collections",
        "An offer was accepted: book it in the ledger.",
    ),
    _spec(
        "collections", "pack.activated", PackActivated, "collections", "A pack version is in force."
    ),
    _spec(
        "collections",
        "preferences.changed",
        PreferencesChanged,
        "collections",
        "A borrower's contact preferences changed.",
    ),
    _spec("collections", "dispute.opened", DisputeOpened, "collections", "A dispute opened."),
    _spec("collections", "dispute.resolved", DisputeResolved, "collections", "A dispute ended."),
    _spec(
        "collections",
        "debtor.flagged",
        DishonestDebtorFlagged,
        "collections",
        "A judgment made the borrower a dishonest debtor (失信).",
    ),
    _spec(
        "notify", "delivery.updated", DeliveryUpdated, "notify", "A message's delivery moved on."
    ),
    _spec(
        "gateway",
        "audit.exported",
        AuditHeadExported,
        "gateway",
        "The head of the audit chain, exported at intervals.",
    ),
)

BY_TYPE: dict[str, EventSpec] = {spec.type: spec for spec in CATALOGUE}
DOMAINS: tuple[str, ...] = tuple(dict.fromkeys(spec.domain for spec in CATALOGUE))


def spec_for(payload_type: type[Payload], *, domain: str | None = None) -> EventSpec:
    """The catalogue entry of a payload class (``domain`` disambiguates reused payloads)."""
    for spec in CATALOGUE:
        if spec.payload is payload_type and (domain is None or spec.domain == domain):
            return spec
    raise KeyError(f"{payload_type.__name__} is not in the event catalogue")


# --- the envelope --------------------------------------------------------------------------


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 envelope in JSON structured mode, with ``traceparent`` as extension."""

    # Its fields are shared.envelope.KEYS, in that order, typed by shared.envelope (the one
    # definition of the envelope; a comment, not the docstring, which docs/asyncapi.yaml shows).

    model_config = ConfigDict(extra="forbid")

    specversion: Literal["1.0"] = envelope.SPECVERSION
    id: uuid.UUID
    type: envelope.EventType
    source: envelope.Source
    time: envelope.EventTime = Field(default_factory=lambda: datetime.now(UTC))
    subject: envelope.Subject = None
    datacontenttype: Literal["application/json"] = envelope.DATACONTENTTYPE
    traceparent: envelope.Traceparent = None
    data: dict[str, Any]

    @property
    def spec(self) -> EventSpec:
        try:
            return BY_TYPE[self.type]
        except KeyError:
            raise UnknownEventType(self.type) from None

    def payload(self) -> Payload:
        """The typed payload; raises pydantic's ``ValidationError`` when ``data`` is wrong."""
        return self.spec.payload.model_validate(self.data)


class UnknownEventType(ValueError):
    def __init__(self, event_type: str) -> None:
        super().__init__(f"event type {event_type!r} is not in the catalogue")


def make_event(
    payload: Payload,
    *,
    source: str,
    subject: str | None = None,
    domain: str | None = None,
    traceparent: str | None = None,
    event_id: uuid.UUID | None = None,
    time: datetime | None = None,
) -> CloudEvent:
    """Wrap a payload in a new envelope (the id is the idempotency key on the bus)."""
    spec = spec_for(type(payload), domain=domain)
    return CloudEvent(
        id=event_id or uuid.uuid4(),
        type=spec.type,
        source=source,
        time=time or datetime.now(UTC),
        subject=subject,
        traceparent=traceparent,
        data=payload.model_dump(mode="json", exclude_none=False),
    )
