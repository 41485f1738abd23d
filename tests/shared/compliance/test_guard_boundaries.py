"""The guard's boundaries: hours in the borrower's zone (DST days included), caps, refusals."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.compliance import (
    Attempt,
    AttemptStatus,
    Channel,
    ContactHistory,
    ContactRequest,
    Outcome,
    Purpose,
    Recipient,
    Rule,
    decide,
    default_pack,
    parse_pack,
)

CN = default_pack("cn")
US = default_pack("us")
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def make_request(
    *, channel: Channel = Channel.SMS, zone: str = "Asia/Shanghai", **kw: object
) -> ContactRequest:
    return ContactRequest(channel=channel, loan_id="L-1", borrower_id="B-1", time_zone=zone, **kw)  # type: ignore[arg-type]


def test_both_shipped_packs_parse_without_mistakes() -> None:
    assert CN.contact_hours.end.hour == 22
    assert US.contact_hours.end.hour == 21


def test_a_bad_pack_lists_every_mistake_with_its_path() -> None:
    errors = parse_pack({"pack": "x", "version": 0, "caps": {"c": {"limit": 0}}})
    assert isinstance(errors, list)
    fields = {e.field for e in errors}
    assert {"version", "contact_hours", "caps.c.limit", "caps.c.channels", "recipients"} <= fields


def test_eight_exactly_is_allowed_and_a_second_before_is_deferred_to_eight() -> None:
    at_eight = datetime(2026, 2, 16, 8, 0, tzinfo=SHANGHAI)
    assert decide(make_request(), CN, ContactHistory(), at_eight).outcome is Outcome.ALLOWED
    early = decide(make_request(), CN, ContactHistory(), at_eight - timedelta(seconds=1))
    assert (early.outcome, early.rule, early.until) == (
        Outcome.DEFERRED,
        Rule.CONTACT_HOURS,
        at_eight,
    )


def test_twenty_one_fifty_nine_is_allowed_in_cn_and_deferred_in_us() -> None:
    late_cn = datetime(2026, 2, 16, 21, 59, tzinfo=SHANGHAI)
    assert decide(make_request(), CN, ContactHistory(), late_cn).outcome is Outcome.ALLOWED
    late_us = datetime(2026, 2, 16, 21, 0, tzinfo=NEW_YORK)
    decision = decide(make_request(zone="America/New_York"), US, ContactHistory(), late_us)
    assert decision.until == datetime(2026, 2, 17, 8, 0, tzinfo=NEW_YORK)


@pytest.mark.parametrize("day", [8, 1])  # 2026-03-08 spring forward, 2026-11-01 fall back
def test_deferral_lands_on_eight_local_across_a_dst_change(day: int) -> None:
    month = 3 if day == 8 else 11
    night = datetime(2026, month, day - 1 if day > 1 else 1, 23, 30, tzinfo=NEW_YORK)
    if day == 1:
        night = datetime(2026, 10, 31, 23, 30, tzinfo=NEW_YORK)
    decision = decide(make_request(zone="America/New_York"), US, ContactHistory(), night)
    assert decision.until is not None
    local = decision.until.astimezone(NEW_YORK)
    assert (local.month, local.day, local.hour, local.minute) == (month, day, 8, 0)


def test_the_third_connected_call_is_allowed_and_the_fourth_deferred_to_tomorrow() -> None:
    morning = datetime(2026, 2, 16, 9, 0, tzinfo=SHANGHAI)
    calls = tuple(
        Attempt(morning + timedelta(minutes=i), Channel.AGENT_CALL, "L-1", AttemptStatus.CONNECTED)
        for i in range(2)
    )
    request = make_request(channel=Channel.AGENT_CALL)
    now = morning + timedelta(hours=1)
    assert decide(request, CN, ContactHistory(attempts=calls), now).outcome is Outcome.ALLOWED
    third = Attempt(now, Channel.AGENT_CALL, "L-1", AttemptStatus.CONNECTED)
    fourth = decide(
        request, CN, ContactHistory(attempts=(*calls, third)), now + timedelta(minutes=5)
    )
    assert (fourth.rule, fourth.until) == (
        Rule.DAILY_ATTEMPTS,
        datetime(2026, 2, 17, 8, tzinfo=SHANGHAI),
    )


def test_stop_contact_refuses_reminders_but_not_required_notices() -> None:
    history = ContactHistory(stopped_channels=frozenset({Channel.SMS}))
    noon = datetime(2026, 2, 16, 12, tzinfo=SHANGHAI)
    assert decide(make_request(), CN, history, noon).rule is Rule.STOP_CONTACT
    notice = make_request(purpose=Purpose.LEGAL_NOTICE)
    assert decide(notice, CN, history, noon).outcome is Outcome.ALLOWED


def test_a_contact_person_is_refused_while_the_borrower_is_reachable() -> None:
    request = make_request(recipient=Recipient.CONTACT_PERSON, purpose=Purpose.LOCATION)
    noon = datetime(2026, 2, 16, 12, tzinfo=SHANGHAI)
    assert decide(request, CN, ContactHistory(), noon).rule is Rule.THIRD_PARTY
    lost = ContactHistory(borrower_unreachable=True)
    assert decide(request, CN, lost, noon).outcome is Outcome.ALLOWED


def test_us_calls_wait_seven_days_after_the_seventh_in_a_week() -> None:
    start = datetime(2026, 3, 2, 14, tzinfo=UTC)  # 09:00 EST; +7 days is 10:00 EDT
    calls = tuple(
        Attempt(start + timedelta(hours=i), Channel.VOICE, "L-1", AttemptStatus.UNANSWERED)
        for i in range(7)
    )
    request = make_request(channel=Channel.VOICE, zone="America/New_York")
    decision = decide(request, US, ContactHistory(attempts=calls), start + timedelta(hours=8))
    assert decision.rule is Rule.PERIOD_ATTEMPTS
    assert decision.until == start + timedelta(days=7)
