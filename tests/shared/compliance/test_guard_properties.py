"""Property: whatever schedule of steps, retries, deferrals and agent calls is thrown at the
guard, no contact it allows breaks the pack's hours, caps, stop requests or disputes."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.compliance import (
    Attempt,
    AttemptStatus,
    Channel,
    ContactHistory,
    ContactRequest,
    Pack,
    decide,
    default_pack,
)

START = datetime(2026, 3, 7, tzinfo=UTC)  # the US changes to summer time on the 8th
#: The regulations' own figures, not the pack's: a pack that drifted from them fails here.
HOURS = {"cn": (time(8), time(22)), "us": (time(8), time(21))}
ZONES = ("Asia/Shanghai", "America/New_York", "Europe/London", "Pacific/Auckland")
NUMBERS = ("+10000000001", "+10000000002")
# Calls drawn more often than the rest, so that the call caps are reached.
CHANNELS = (Channel.AGENT_CALL, Channel.AGENT_CALL, Channel.VOICE, Channel.SMS, Channel.EMAIL,
            Channel.LETTER)  # fmt: skip
STATUSES = (AttemptStatus.CONNECTED, AttemptStatus.CONNECTED, AttemptStatus.UNANSWERED,
            AttemptStatus.DELIVERED)  # fmt: skip
Asked = tuple[int, Channel, str, AttemptStatus, bool]

asks = st.lists(
    st.tuples(
        st.integers(0, 3 * 24 * 60 - 1),  # minute it is asked, within three days: caps bite
        st.sampled_from(CHANNELS),
        st.sampled_from(NUMBERS),
        st.sampled_from(STATUSES),  # what happens if it is allowed
        st.booleans(),  # whether a deferral is re-decided at its ``until``
    ),
    max_size=80,
)


def play(
    pack: Pack, zone: str, schedule: list[Asked], stopped: frozenset[Channel]
) -> list[Attempt]:
    """Decide every ask in time order (deferrals again at their ``until``); keep what is allowed."""
    history = ContactHistory(stopped_channels=stopped)
    queue = sorted((START + timedelta(minutes=m), c, n, s, r) for m, c, n, s, r in schedule)
    allowed: list[Attempt] = []
    while queue:
        at, channel, number, status, retry = queue.pop(0)
        request = ContactRequest(channel, "L-1", "B-1", zone, case_id="C-1", to=number)
        decision = decide(request, pack, history, at)
        if decision.allowed:
            attempt = Attempt(at, channel, "L-1", status, to=number)
            allowed.append(attempt)
            history = replace(history, attempts=(*history.attempts, attempt))
        elif decision.until is not None and retry:
            assert decision.until > at
            queue.append((decision.until.astimezone(UTC), channel, number, status, False))
            queue.sort()
    return allowed


def check_hours(pack: Pack, zone: str, allowed: list[Attempt]) -> None:
    start, end = HOURS[pack.pack_id]
    for attempt in allowed:
        if attempt.channel is not Channel.LETTER:
            clock = attempt.at.astimezone(ZoneInfo(zone)).time()
            assert start <= clock < end, attempt


def check_daily_caps(zone: str, allowed: list[Attempt]) -> None:
    """Pack ``cn``: 3 connected calls and 6 unanswered dials per number per local day."""
    connected: Counter[object] = Counter()
    unanswered: Counter[object] = Counter()
    for a in allowed:
        day = a.at.astimezone(ZoneInfo(zone)).date()
        if a.channel in (Channel.AGENT_CALL, Channel.VOICE):
            if a.status is AttemptStatus.CONNECTED:
                connected[day] += 1
            if a.status is AttemptStatus.UNANSWERED:
                unanswered[day, a.to] += 1
    assert max(connected.values(), default=0) <= 3
    assert max(unanswered.values(), default=0) <= 6


def check_period_cap(allowed: list[Attempt]) -> None:
    """Pack ``us``: at most 7 telephone calls per debt in any 7 × 24 h."""
    calls = sorted(a.at for a in allowed if a.channel in (Channel.AGENT_CALL, Channel.VOICE))
    for i, first in enumerate(calls):
        assert sum(1 for t in calls[i:] if t < first + timedelta(days=7)) <= 7


@settings(max_examples=150, deadline=None)
@given(schedule=asks, zone=st.sampled_from(ZONES), stop=st.booleans())
def test_no_allowed_contact_breaks_pack_cn(schedule: list[Asked], zone: str, stop: bool) -> None:
    pack = default_pack("cn")
    stopped = frozenset({Channel.SMS}) if stop else frozenset()

    allowed = play(pack, zone, schedule, stopped)

    check_hours(pack, zone, allowed)
    check_daily_caps(zone, allowed)
    assert not any(a.channel in stopped for a in allowed)


@settings(max_examples=150, deadline=None)
@given(schedule=asks, zone=st.sampled_from(ZONES))
def test_no_allowed_contact_breaks_pack_us(schedule: list[Asked], zone: str) -> None:
    pack = default_pack("us")

    allowed = play(pack, zone, schedule, frozenset())

    check_hours(pack, zone, allowed)
    check_period_cap(allowed)


@settings(max_examples=50, deadline=None)
@given(schedule=asks, zone=st.sampled_from(ZONES))
def test_a_disputed_loan_is_never_contacted(schedule: list[Asked], zone: str) -> None:
    history = ContactHistory(open_disputes=frozenset({"L-1"}))
    for minute, channel, number, _, _ in schedule:
        request = ContactRequest(channel, "L-1", "B-1", zone, case_id="C-1", to=number)
        assert not decide(
            request, default_pack("cn"), history, START + timedelta(minutes=minute)
        ).allowed
