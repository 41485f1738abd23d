"""The words of the contact contract (BRIEF section 5): channels, recipients, purposes, rules."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """How a contact reaches someone; ``agent_call`` and ``field_visit`` are human contacts."""

    SMS = "sms"
    EMAIL = "email"
    PUSH = "push"
    VOICE = "voice"
    LETTER = "letter"
    AGENT_CALL = "agent_call"
    FIELD_VISIT = "field_visit"


#: Telephone calls: an agent's call and an automated voice (IVR) call.
CALLS = frozenset({Channel.AGENT_CALL, Channel.VOICE})


class Recipient(StrEnum):
    """Who a contact is addressed to (BRIEF decision 5)."""

    BORROWER = "borrower"
    GUARANTOR = "guarantor"
    CO_SIGNER = "co_signer"
    SPOUSE = "spouse"
    ATTORNEY = "attorney"
    CONTACT_PERSON = "contact_person"


class Purpose(StrEnum):
    """What a template is for (BRIEF decision 6)."""

    REMINDER = "reminder"
    VALIDATION_NOTICE = "validation_notice"
    LEGAL_NOTICE = "legal_notice"
    AGENCY_NOTICE = "agency_notice"
    DISPUTE_REPLY = "dispute_reply"
    VERIFICATION = "verification"
    LOCATION = "location"
    OPERATIONAL = "operational"


class Rule(StrEnum):
    """The name of the rule a deferral or refusal cites (BRIEF section 5 and decision 1)."""

    CONTACT_HOURS = "contact_hours"
    DAILY_ATTEMPTS = "daily_attempts"
    PERIOD_ATTEMPTS = "period_attempts"
    AFTER_CONVERSATION = "after_conversation"
    STOP_CONTACT = "stop_contact"
    DISPUTE = "dispute"
    THIRD_PARTY = "third_party"
    PROMISE_PENDING = "promise_pending"
    LEGAL_NOTICE_PERIOD = "legal_notice_period"
    TIME_BARRED = "time_barred"
    VALIDATION_NOTICE = "validation_notice"
    CONSENT = "consent"
    CASE_CLOSED = "case_closed"


class Outcome(StrEnum):
    """What the guard decided."""

    ALLOWED = "allowed"
    DEFERRED = "deferred"
    REFUSED = "refused"


class AttemptStatus(StrEnum):
    """Where a contact in the ledger stands (BRIEF decision 2).

    ``pending``: allowed and reserved, no outcome yet; ``connected``: a call answered (voice
    ``answered``, or an agent's contact with someone); ``unanswered``: a call not answered;
    ``delivered``: a message sent or delivered; ``failed``: the provider failed it (releases the
    slot, but counts as a failed attempt to reach); ``blocked``: never sent (releases the slot).
    """

    PENDING = "pending"
    CONNECTED = "connected"
    UNANSWERED = "unanswered"
    DELIVERED = "delivered"
    FAILED = "failed"
    BLOCKED = "blocked"


class CapCounts(StrEnum):
    """Which contacts of its channels a cap counts; a pending contact counts for every kind."""

    ALL = "all"
    CONNECTED = "connected"
    UNANSWERED = "unanswered"


class CapScope(StrEnum):
    """What a cap is counted per: the borrower (all loans), the debt (one loan), one number."""

    BORROWER = "borrower"
    DEBT = "debt"
    NUMBER = "number"
