"""The rules that defer: contact hours, consent to other hours, caps, the gap after a conversation.

Each rule here looks at one instant ``t`` (UTC) and returns None when it allows a contact then,
or a :class:`Hold` with the earliest later instant at which it would (the history being as it
is). Instants are compared and added in UTC only: ``zoneinfo`` datetimes that share a tzinfo are
compared and shifted on the wall clock, which is wrong across a DST change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.compliance.history import ContactHistory, ContactRequest
from shared.compliance.pack import Cap, Pack
from shared.compliance.vocabulary import CALLS, AttemptStatus, CapCounts, CapScope, Rule

_COUNTED = {
    CapCounts.ALL: frozenset(
        {
            AttemptStatus.PENDING,
            AttemptStatus.CONNECTED,
            AttemptStatus.UNANSWERED,
            AttemptStatus.DELIVERED,
        }
    ),
    # A pending call may still connect or go unanswered: it holds a slot of both kinds.
    CapCounts.CONNECTED: frozenset({AttemptStatus.PENDING, AttemptStatus.CONNECTED}),
    CapCounts.UNANSWERED: frozenset({AttemptStatus.PENDING, AttemptStatus.UNANSWERED}),
}
_MIDNIGHT = time(0)


@dataclass(frozen=True, slots=True)
class Ask:
    """One decision's inputs, the borrower's zone resolved once."""

    request: ContactRequest
    pack: Pack
    history: ContactHistory
    zone: ZoneInfo
    now: datetime


@dataclass(frozen=True, slots=True)
class Hold:
    """A deferring rule's answer: why not now, and from when (UTC) it would allow."""

    rule: Rule
    reason: str
    until: datetime


def next_local(t: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The first instant after ``t`` (UTC) whose wall clock in ``zone`` reads ``at``, in UTC.

    Built from the local date, so a DST change between now and then moves nothing. A wall time
    that does not exist that day (inside a spring-forward gap) resolves with the offset before
    the gap, i.e. that much after the clocks jumped: later than necessary, never earlier.
    """
    local = t.astimezone(zone)
    day = local.date()
    if local.time() >= at:
        day += timedelta(days=1)
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def window(request: ContactRequest, pack: Pack, history: ContactHistory) -> tuple[time, time]:
    """The hours a contact may start in: the pack's, or for calls the borrower's preferred
    hours (as they are with consent; inside the pack's hours without it)."""
    hours = pack.contact_hours
    preferred = history.preferred_hours
    if preferred is None or request.channel not in CALLS:
        return hours.start, hours.end
    if history.preferred_hours_consent:
        return preferred.start, preferred.end
    return max(hours.start, preferred.start), min(hours.end, preferred.end)


def contact_hours(ask: Ask, t: datetime) -> Hold | None:
    """Rules ``contact_hours`` and ``consent``: a contact starts inside its window.

    cn: the CBA guideline (2026) allows collection contact 08:00-22:00 local time; us: FDCPA
    §1692c(a)(1) and Reg F §1006.6(b)(1)(i) presume 08:00-21:00 convenient. Preferred hours
    move the window for calls only with a recorded consent (BRIEF decision 7).
    """
    if ask.request.channel in ask.pack.contact_hours.exempt:
        return None
    start, end = window(ask.request, ask.pack, ask.history)
    local = t.astimezone(ask.zone).time()
    if start <= local < end:
        return None
    until = next_local(t, start, ask.zone)
    preferred = ask.history.preferred_hours
    if (start, end) == (
        ask.pack.contact_hours.start,
        ask.pack.contact_hours.end,
    ) or preferred is None:
        return Hold(Rule.CONTACT_HOURS, f"{end:%H:%M}-{start:%H:%M} in {ask.zone.key}", until)
    if not ask.history.preferred_hours_consent and preferred.start <= local < preferred.end:
        # The borrower's time, but outside the pack's hours: only a recorded consent allows it.
        return Hold(Rule.CONSENT, _consent_reason(start, end, ask.zone), until)
    return Hold(Rule.CONTACT_HOURS, _preferred_reason(start, end, ask.zone), until)


def _consent_reason(start: time, end: time, zone: ZoneInfo) -> str:
    return (
        f"outside the pack's hours and no recorded consent to call then; "
        f"calls only {start:%H:%M}-{end:%H:%M} in {zone.key}"
    )


def _preferred_reason(start: time, end: time, zone: ZoneInfo) -> str:
    return f"the borrower asked to be called {start:%H:%M}-{end:%H:%M} in {zone.key}"


def caps(ask: Ask, t: datetime) -> Hold | None:
    """Rules ``daily_attempts`` and ``period_attempts``: the first cap the contact would break.

    cn (CBA guideline 2026): at most 3 connected collection calls a day per borrower and 6
    unanswered dials a day to one number, counted on the borrower's local calendar day; texts
    and e-mails have their own daily caps. us (Reg F §1006.14(b)(2)): at most 7 calls per debt
    in 7 days, calls the borrower asked for excluded (§1006.14(b)(3)); texts and e-mails capped
    separately (configurable). Allowed contacts not yet confirmed hold their slot.
    """
    for cap in applicable_caps(ask):
        hold = _cap_hold(cap, ask, t)
        if hold is not None:
            return hold
    return None


def applicable_caps(ask: Ask) -> list[Cap]:
    """The pack's caps that count the requested contact."""
    found = []
    for cap in ask.pack.caps:
        if ask.request.channel not in cap.channels:
            continue
        if cap.exclude_borrower_requested and ask.request.borrower_requested:
            continue
        if cap.scope is CapScope.NUMBER and ask.request.to is None:
            continue
        found.append(cap)
    return found


def counted(cap: Cap, ask: Ask, t: datetime) -> list[datetime]:
    """When each contact ``cap`` counts at ``t`` happened (its day or its rolling window)."""
    # One plain loop: this runs for every decision and every hop of a deferral.
    if cap.window_hours is None:
        today = t.astimezone(ask.zone).date()
        after = datetime.combine(today, _MIDNIGHT, tzinfo=ask.zone).astimezone(UTC)
    else:
        after = t - timedelta(hours=cap.window_hours)
    statuses, channels, scope = _COUNTED[cap.counts], cap.channels, cap.scope
    exclude, loan_id, to = cap.exclude_borrower_requested, ask.request.loan_id, ask.request.to
    times = []
    for a in ask.history.attempts:
        if a.channel not in channels or a.status not in statuses or a.at < after or a.at > t:
            continue
        if exclude and a.borrower_requested:
            continue
        if (scope is CapScope.DEBT and a.loan_id != loan_id) or (
            scope is CapScope.NUMBER and a.to != to
        ):
            continue
        times.append(a.at)
    return times


def _cap_hold(cap: Cap, ask: Ask, t: datetime) -> Hold | None:
    times = counted(cap, ask, t)
    if len(times) < cap.limit:
        return None
    if cap.window_hours is None:
        until = next_local(t, _MIDNIGHT, ask.zone)
        where = f"today in {ask.zone.key}"
    else:
        times.sort()
        until = times[len(times) - cap.limit] + timedelta(hours=cap.window_hours)
        where = f"in {cap.window_hours} hours"
    reason = f"{cap.name}: {len(times)} of {cap.limit} {where}"
    return Hold(cap.rule, reason, until.astimezone(UTC))


def after_conversation(ask: Ask, t: datetime) -> Hold | None:
    """Rule ``after_conversation``: no call for a while after a telephone conversation.

    us: Reg F §1006.14(b)(2)(ii), none within 7 days after a telephone conversation about the
    debt (calls the borrower asked for excluded, §1006.14(b)(3)); cn sets no such gap.
    """
    gap = ask.pack.after_conversation
    if gap is None or ask.request.channel not in gap.channels or ask.request.borrower_requested:
        return None
    span = timedelta(hours=gap.hours)
    latest = None
    for talk in ask.history.conversations:
        if talk.loan_id == ask.request.loan_id and talk.channel in gap.channels and talk.at <= t:
            if latest is None or talk.at > latest:
                latest = talk.at
    if latest is None or latest + span <= t:
        return None
    until = (latest + span).astimezone(UTC)
    return Hold(Rule.AFTER_CONVERSATION, f"a telephone conversation at {latest.isoformat()}", until)


#: The deferring rules in the order their reasons are reported.
TIME_RULES = (contact_hours, after_conversation, caps)
