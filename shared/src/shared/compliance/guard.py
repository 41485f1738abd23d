"""``decide``: the compliance guard, one pure function over a snapshot of the contact ledger.

Collections calls it before it requests any contact and notify again before it sends
(BRIEF decision 2). Rules that forbid a contact outright (the case closed, a third party, a stop
request, a dispute, a time-barred debt, an overdue validation notice, a pending promise, a
missing notice or consent) are checked first and refuse; then the rules bound to the clock
(hours, the gap after a conversation, caps) defer to the next instant all of them allow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.compliance.history import (
    ALLOWED,
    ContactHistory,
    ContactRequest,
    Decision,
    deferred,
    refused,
)
from shared.compliance.pack import Pack
from shared.compliance.timing import TIME_RULES, Ask, Hold, window
from shared.compliance.vocabulary import CALLS, AttemptStatus, Purpose, Recipient, Rule

# Enough for hours -> a cap -> hours again; a contact still held after that is re-decided at
# the instant reached, so a bound here can make a deferral short, never let a contact through.
_MAX_HOPS = 12
_FAILED = frozenset({AttemptStatus.UNANSWERED, AttemptStatus.FAILED})
_FINAL = _FAILED | {AttemptStatus.CONNECTED, AttemptStatus.DELIVERED}
_NOT_COLLECTION = frozenset({Purpose.OPERATIONAL})

Check = Callable[[Ask], Decision | None]


def decide(request: ContactRequest, pack: Pack, history: ContactHistory, now: datetime) -> Decision:
    """Whether ``request`` may happen at ``now`` (aware) under ``pack``, with rule and reason."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    ask = Ask(request, pack, history, ZoneInfo(request.time_zone), now)
    for check in _REFUSALS:
        decision = check(ask)
        if decision is not None:
            return decision
    return _when(ask, ask.now.astimezone(UTC))


def _when(ask: Ask, t: datetime) -> Decision:
    first: Hold | None = None
    for _ in range(_MAX_HOPS):
        hold = _first_hold(ask, t)
        if hold is None:
            break
        first = first or hold
        t = hold.until
    if first is None:
        return ALLOWED
    return deferred(first.rule, first.reason, t.astimezone(ask.zone))


def _first_hold(ask: Ask, t: datetime) -> Hold | None:
    for rule in TIME_RULES:
        hold = rule(ask, t)
        if hold is not None:
            return hold
    return None


def _required(request: ContactRequest, pack: Pack) -> bool:
    return request.purpose in pack.required_notices


def _case_closed(ask: Ask) -> Decision | None:
    """Rule ``case_closed``: a step (or its deferral) whose case has closed (BRIEF decision 1)."""
    if ask.request.case_id is not None and ask.history.case_closed:
        return refused(Rule.CASE_CLOSED, f"case {ask.request.case_id} is closed")
    return None


def _third_party(ask: Ask) -> Decision | None:
    """Rule ``third_party``: only the people the pack names, a contact person only to locate.

    cn (CBA guideline 2026): the borrower and a guarantor; a contact person only while the
    borrower cannot be reached (number invalid, or N failed attempts in a row) and never told of
    the debt. us: FDCPA §1692b/§1692c(b), Reg F §1006.6(d): the consumer, spouse, co-signer,
    attorney; third parties once, for location information; once an attorney is known, only
    the attorney (§1692c(a)(2)). A number marked wrong reaches someone else.
    """
    reason = _recipient_problem(ask.request, ask.pack, ask.history)
    return None if reason is None else refused(Rule.THIRD_PARTY, reason)


def _recipient_problem(request: ContactRequest, pack: Pack, history: ContactHistory) -> str | None:
    rules = pack.recipients
    if request.to is not None and request.to in history.invalid_numbers:
        return f"{request.to} is marked as a wrong number: it reaches someone else"
    if rules.attorney_exclusive and history.attorney_known:
        if request.recipient is not Recipient.ATTORNEY:
            return "an attorney represents the borrower: only the attorney may be contacted"
    if request.recipient in rules.allowed:
        return None
    person = rules.contact_person
    if request.recipient is not Recipient.CONTACT_PERSON or person is None:
        return f"pack {pack.pack_id} does not allow contacting the {request.recipient}"
    if request.purpose not in person.purposes:
        return "a contact person only receives location templates, which never mention the debt"
    if person.requires_unreachable and not unreachable(pack, history):
        return "a contact person may be contacted only while the borrower cannot be reached"
    if person.max_contacts is not None:
        done = sum(
            1
            for a in history.attempts
            if a.recipient is Recipient.CONTACT_PERSON
            and a.to == request.to
            and a.status is not AttemptStatus.BLOCKED
        )
        if done >= person.max_contacts:
            return f"this contact person was already contacted {done} time(s)"
    return None


def unreachable(pack: Pack, history: ContactHistory) -> bool:
    """Whether the borrower cannot be reached: flagged, every number invalid, or the pack's
    number of failed attempts in a row (the latest outcomes, pending ones aside)."""
    if history.borrower_unreachable:
        return True
    if history.borrower_numbers and history.borrower_numbers <= history.invalid_numbers:
        return True
    outcomes = sorted(
        (a for a in history.attempts if a.recipient is Recipient.BORROWER and a.status in _FINAL),
        key=lambda a: a.at,
        reverse=True,
    )
    streak = 0
    for attempt in outcomes:
        if attempt.status not in _FAILED:
            break
        streak += 1
    return streak >= pack.failed_attempts_in_a_row


def _stop_contact(ask: Ask) -> Decision | None:
    """Rule ``stop_contact``: a request to stop a channel holds from the moment it arrives
    (cn CBA guideline; us FDCPA §1692c(c), Reg F §1006.6(e) opt-out); required notices still go
    (BRIEF decision 6)."""
    if ask.request.channel in ask.history.stopped_channels and not _required(ask.request, ask.pack):
        return refused(
            Rule.STOP_CONTACT, f"the borrower asked to stop contact by {ask.request.channel}"
        )
    return None


def _dispute(ask: Ask) -> Decision | None:
    """Rule ``dispute``: an open dispute freezes collection on the loan until it is resolved
    (us: FDCPA §1692g(b), Reg F §1006.34: until verification is mailed); required notices and
    operational messages are not collection."""
    if ask.request.loan_id not in ask.history.open_disputes:
        return None
    if _required(ask.request, ask.pack) or ask.request.purpose in _NOT_COLLECTION:
        return None
    return refused(Rule.DISPUTE, f"loan {ask.request.loan_id} has an open dispute")


def _time_barred(ask: Ask) -> Decision | None:
    """Rule ``time_barred``: no suit or threat of suit on a time-barred debt (Reg F
    §1006.26(b)); barred ``limitation_years`` after the last payment, or on an ingested date."""
    if not (ask.request.legal_escalation or ask.request.purpose is Purpose.LEGAL_NOTICE):
        return None
    barred_on = ask.history.time_barred_on
    if barred_on is None and ask.pack.limitation_years and ask.history.last_payment_on is not None:
        barred_on = _add_years(ask.history.last_payment_on, ask.pack.limitation_years)
    if barred_on is None or _today(ask) < barred_on:
        return None
    return refused(Rule.TIME_BARRED, f"the debt is time-barred since {barred_on.isoformat()}")


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February: the day before 1 March, the earlier of the two
        return day.replace(year=day.year + years, day=28)


def _today(ask: Ask) -> date:
    return ask.request.business_on or ask.now.astimezone(ask.zone).date()


def _validation_notice(ask: Ask) -> Decision | None:
    """Rule ``validation_notice``: once the days after the first contact have passed without a
    validation notice (us: FDCPA §1692g(a), Reg F §1006.34(a)), nothing but that notice goes."""
    days = ask.pack.validation_notice_days
    if days is None or ask.request.purpose is Purpose.VALIDATION_NOTICE:
        return None
    first = ask.history.first_contact_at
    if ask.history.validation_notice_sent_at is not None or first is None:
        return None
    if ask.now < first + timedelta(days=days):
        return None
    return refused(
        Rule.VALIDATION_NOTICE,
        f"no validation notice within {days} days of the first contact ({first.isoformat()})",
    )


def _promise_pending(ask: Ask) -> Decision | None:
    """Rule ``promise_pending``: a pending promise to pay suppresses other reminders (every
    pack, BRIEF section 7), unless the borrower asked to be called."""
    if ask.request.purpose is not Purpose.REMINDER or ask.request.borrower_requested:
        return None
    if ask.request.loan_id not in ask.history.pending_promises:
        return None
    return refused(
        Rule.PROMISE_PENDING, f"a promise to pay on loan {ask.request.loan_id} is pending"
    )


def _legal_notice_period(ask: Ask) -> Decision | None:
    """Rule ``legal_notice_period``: legal escalation only after a written notice and its
    waiting period (cn CBA guideline 2026, default 15 days), counted in business dates.

    A deferral's ``until`` is the start of the day the period ends in the borrower's zone; the
    service re-decides when the business date gets there.
    """
    days = ask.pack.legal_notice_waiting_days
    if not ask.request.legal_escalation or days is None:
        return None
    sent_on = ask.history.legal_notice_sent_on
    if sent_on is None:
        return refused(Rule.LEGAL_NOTICE_PERIOD, "no written notice before legal escalation")
    ends_on = sent_on + timedelta(days=days)
    if _today(ask) >= ends_on:
        return None
    until = datetime.combine(ends_on, time(0), tzinfo=ask.zone)
    reason = f"notice sent on {sent_on.isoformat()}; waiting until {ends_on.isoformat()}"
    return deferred(Rule.LEGAL_NOTICE_PERIOD, reason, until)


def _consent_window(ask: Ask) -> Decision | None:
    """Rule ``consent``: preferred hours wholly outside the pack's need a consent for calls."""
    if ask.request.channel not in CALLS or ask.history.preferred_hours is None:
        return None
    start, end = window(ask.request, ask.pack, ask.history)
    if start < end:
        return None
    return refused(
        Rule.CONSENT,
        "the borrower's preferred hours lie outside the pack's and no consent is recorded",
    )


_REFUSALS: tuple[Check, ...] = (
    _case_closed,
    _third_party,
    _stop_contact,
    _dispute,
    _time_barred,
    _validation_notice,
    _promise_pending,
    _legal_notice_period,
    _consent_window,
)
