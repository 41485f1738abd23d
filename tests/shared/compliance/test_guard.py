"""The compliance guard on its boundaries: hours, caps, refusals, DST, several time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
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
)

CN, US = default_pack("cn"), default_pack("us")
SHANGHAI, NEW_YORK = "Asia/Shanghai", "America/New_York"


def local(
    zone: str, year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(zone))


def make_request(
    *,
    channel: Channel = Channel.SMS,
    zone: str = SHANGHAI,
    recipient: Recipient = Recipient.BORROWER,
    purpose: Purpose = Purpose.REMINDER,
    to: str | None = "+8613800000000",
) -> ContactRequest:
    return ContactRequest(
        channel=channel,
        loan_id="L-1",
        borrower_id="B-1",
        time_zone=zone,
        recipient=recipient,
        purpose=purpose,
        case_id="C-1",
        to=to,
    )


def calls(
    at: datetime, n: int, status: AttemptStatus, *, to: str = "+8613800000000"
) -> tuple[Attempt, ...]:
    """``n`` agent calls a minute apart from ``at``."""
    return tuple(
        Attempt(at + timedelta(minutes=i), Channel.AGENT_CALL, "L-1", status, to=to)
        for i in range(n)
    )


# --- contact hours ---------------------------------------------------------------------------


def test_eight_o_clock_exactly_is_allowed_in_cn() -> None:
    decision = decide(make_request(), CN, ContactHistory(), local(SHANGHAI, 2026, 3, 2, 8, 0))

    assert decision.outcome is Outcome.ALLOWED
    assert decision.rule is None


def test_a_second_before_eight_is_deferred_to_eight_local_time() -> None:
    now = local(SHANGHAI, 2026, 3, 2, 7, 59, 59)

    decision = decide(make_request(), CN, ContactHistory(), now)

    assert decision.outcome is Outcome.DEFERRED
    assert decision.rule is Rule.CONTACT_HOURS
    assert decision.until == local(SHANGHAI, 2026, 3, 2, 8, 0)


def test_21_59_is_allowed_in_cn_and_22_00_deferred_to_the_next_morning() -> None:
    assert decide(make_request(), CN, ContactHistory(), local(SHANGHAI, 2026, 3, 2, 21, 59)).allowed

    late = decide(make_request(), CN, ContactHistory(), local(SHANGHAI, 2026, 3, 2, 22, 0))

    assert late.rule is Rule.CONTACT_HOURS
    assert late.until == local(SHANGHAI, 2026, 3, 3, 8, 0)


def test_us_hours_end_at_nine_in_the_evening() -> None:
    request = make_request(zone=NEW_YORK, to="+12125550100")

    assert decide(request, US, ContactHistory(), local(NEW_YORK, 2026, 3, 2, 20, 59)).allowed
    late = decide(request, US, ContactHistory(), local(NEW_YORK, 2026, 3, 2, 21, 0))
    assert late.rule is Rule.CONTACT_HOURS
    assert late.until == local(NEW_YORK, 2026, 3, 3, 8, 0)


def test_a_letter_is_not_bound_by_contact_hours() -> None:
    request = make_request(channel=Channel.LETTER, to=None)

    assert decide(request, CN, ContactHistory(), local(SHANGHAI, 2026, 3, 2, 3, 0)).allowed


@pytest.mark.parametrize(
    ("night", "morning"),
    [
        # Spring forward: 2026-03-08 02:00 EST becomes 03:00 EDT.
        (datetime(2026, 3, 8, 6, 30, tzinfo=UTC), datetime(2026, 3, 8, 12, 0, tzinfo=UTC)),
        # Fall back: 2026-11-01 02:00 EDT becomes 01:00 EST.
        (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), datetime(2026, 11, 1, 13, 0, tzinfo=UTC)),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_on_dst_change_days_the_deferral_is_eight_local_time(
    night: datetime, morning: datetime
) -> None:
    request = make_request(zone=NEW_YORK, to="+12125550100")

    decision = decide(request, US, ContactHistory(), night)

    assert decision.rule is Rule.CONTACT_HOURS
    assert decision.until is not None
    assert decision.until.astimezone(UTC) == morning
    assert decision.until.astimezone(ZoneInfo(NEW_YORK)).hour == 8


def test_the_same_instant_is_day_for_one_borrower_and_night_for_another() -> None:
    instant = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, 20:00 in New York

    assert decide(make_request(zone=SHANGHAI), CN, ContactHistory(), instant).allowed
    assert decide(make_request(zone="Europe/London"), CN, ContactHistory(), instant).rule is (
        Rule.CONTACT_HOURS
    )


# --- caps ------------------------------------------------------------------------------------


def test_cn_allows_the_third_connected_call_of_a_day_and_defers_the_fourth() -> None:
    morning = local(SHANGHAI, 2026, 3, 2, 9, 0)
    request = make_request(channel=Channel.AGENT_CALL)
    two = ContactHistory(attempts=calls(morning, 2, AttemptStatus.CONNECTED))
    three = ContactHistory(attempts=calls(morning, 3, AttemptStatus.CONNECTED))

    assert decide(request, CN, two, morning + timedelta(hours=1)).allowed
    capped = decide(request, CN, three, morning + timedelta(hours=1))
    assert capped.outcome is Outcome.DEFERRED
    assert capped.rule is Rule.DAILY_ATTEMPTS
    assert capped.until == local(SHANGHAI, 2026, 3, 3, 8, 0)


def test_cn_counts_unanswered_dials_per_number() -> None:
    morning = local(SHANGHAI, 2026, 3, 2, 9, 0)
    six = ContactHistory(attempts=calls(morning, 6, AttemptStatus.UNANSWERED))
    later = morning + timedelta(hours=1)

    same_number = decide(make_request(channel=Channel.AGENT_CALL), CN, six, later)
    other_number = decide(
        make_request(channel=Channel.AGENT_CALL, to="+8613900000000"), CN, six, later
    )

    assert same_number.rule is Rule.DAILY_ATTEMPTS
    assert other_number.allowed


def test_us_allows_seven_calls_in_seven_days_and_defers_the_eighth_until_the_first_ages_out() -> (
    None
):
    first = local(NEW_YORK, 2026, 3, 2, 10, 0)
    request = make_request(channel=Channel.AGENT_CALL, zone=NEW_YORK, to="+12125550100")
    dials = tuple(
        Attempt(first + timedelta(days=i), Channel.AGENT_CALL, "L-1", AttemptStatus.UNANSWERED,
                to="+12125550100")
        for i in range(7)
    )  # fmt: skip
    now = first + timedelta(days=6, hours=2)

    assert decide(request, US, ContactHistory(attempts=dials[:6]), now).allowed
    capped = decide(request, US, ContactHistory(attempts=dials), now)
    assert capped.rule is Rule.PERIOD_ATTEMPTS
    assert capped.until is not None
    assert capped.until >= first + timedelta(days=7)


# --- refusals --------------------------------------------------------------------------------


def test_a_stopped_channel_is_refused_but_a_required_notice_on_it_is_not() -> None:
    history = ContactHistory(stopped_channels=frozenset({Channel.SMS}))
    now = local(SHANGHAI, 2026, 3, 2, 10, 0)

    stopped = decide(make_request(), CN, history, now)
    notice = decide(make_request(purpose=Purpose.LEGAL_NOTICE), CN, history, now)

    assert stopped.outcome is Outcome.REFUSED
    assert stopped.rule is Rule.STOP_CONTACT
    assert notice.rule is not Rule.STOP_CONTACT


def test_an_open_dispute_freezes_collection_on_the_loan() -> None:
    history = ContactHistory(open_disputes=frozenset({"L-1"}))

    decision = decide(make_request(), CN, history, local(SHANGHAI, 2026, 3, 2, 10, 0))

    assert decision.outcome is Outcome.REFUSED
    assert decision.rule is Rule.DISPUTE


def test_a_pending_promise_suppresses_reminders() -> None:
    history = ContactHistory(pending_promises=frozenset({"L-1"}))

    decision = decide(make_request(), CN, history, local(SHANGHAI, 2026, 3, 2, 10, 0))

    assert decision.outcome is not Outcome.ALLOWED
    assert decision.rule is Rule.PROMISE_PENDING


def test_a_contact_person_is_refused_while_the_borrower_is_reachable() -> None:
    request = make_request(recipient=Recipient.CONTACT_PERSON, purpose=Purpose.LOCATION)
    now = local(SHANGHAI, 2026, 3, 2, 10, 0)

    reachable = decide(request, CN, ContactHistory(), now)
    unreachable = decide(request, CN, ContactHistory(borrower_unreachable=True), now)

    assert reachable.outcome is Outcome.REFUSED
    assert reachable.rule is Rule.THIRD_PARTY
    assert unreachable.allowed


def test_a_contact_person_never_receives_a_reminder_about_the_debt() -> None:
    request = make_request(recipient=Recipient.CONTACT_PERSON, purpose=Purpose.REMINDER)
    history = ContactHistory(borrower_unreachable=True)

    decision = decide(request, CN, history, local(SHANGHAI, 2026, 3, 2, 10, 0))

    assert decision.rule is Rule.THIRD_PARTY


def test_three_failed_attempts_in_a_row_make_the_borrower_unreachable_in_cn() -> None:
    morning = local(SHANGHAI, 2026, 3, 2, 9, 0)
    request = make_request(recipient=Recipient.CONTACT_PERSON, purpose=Purpose.LOCATION)
    history = ContactHistory(attempts=calls(morning, 3, AttemptStatus.UNANSWERED))

    assert decide(request, CN, history, morning + timedelta(hours=2)).allowed


def test_in_us_once_an_attorney_is_known_only_the_attorney_is_contacted() -> None:
    history = ContactHistory(attorney_known=True)
    now = local(NEW_YORK, 2026, 3, 2, 10, 0)
    borrower = make_request(zone=NEW_YORK, to="+12125550100")
    attorney = make_request(zone=NEW_YORK, recipient=Recipient.ATTORNEY, to="+12125550199")

    assert decide(borrower, US, history, now).rule is Rule.THIRD_PARTY
    assert decide(attorney, US, history, now).allowed


def test_a_step_of_a_closed_case_is_refused() -> None:
    decision = decide(
        make_request(), CN, ContactHistory(case_closed=True), local(SHANGHAI, 2026, 3, 2, 10, 0)
    )

    assert decision.rule is Rule.CASE_CLOSED


def test_no_suit_or_threat_of_suit_on_a_time_barred_debt_in_us() -> None:
    """Reg F §1006.26(b) forbids suing or threatening to sue, not every reminder."""
    history = ContactHistory(time_barred_on=date(2026, 1, 1))
    now = local(NEW_YORK, 2026, 3, 2, 10)
    notice = make_request(zone=NEW_YORK, to="+12125550100", purpose=Purpose.LEGAL_NOTICE)

    barred = decide(notice, US, history, now)
    reminder = decide(make_request(zone=NEW_YORK, to="+12125550100"), US, history, now)

    assert barred.outcome is Outcome.REFUSED
    assert barred.rule is Rule.TIME_BARRED
    assert reminder.rule is not Rule.TIME_BARRED


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        decide(make_request(), CN, ContactHistory(), datetime(2026, 3, 2, 10, 0))
