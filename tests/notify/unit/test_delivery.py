"""The send-time decision, the state machine, request fingerprints, addresses and receipt
signatures: pure, at fixed instants in several zones."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notify.domain.addresses import normalise
from notify.domain.delivery import Block, Defer, SendAsk, SendNow, decide_send
from notify.domain.messages import MOVES, Status, fingerprint, may_move
from notify.domain.signatures import sign, signature_valid
from shared.compliance import Attempt, AttemptStatus, Channel, ContactHistory, default_pack

CN, US = default_pack("cn"), default_pack("us")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def make_ask(**changes: object) -> SendAsk:
    values: dict[str, object] = {
        "channel": "sms",
        "borrower_id": "B-1",
        "loan_id": "L-1",
        "recipient": "borrower",
        "purpose": "reminder",
        "time_zone": "Asia/Shanghai",
        "address": "+8613800000000",
        "address_valid": True,
        "suppression": None,
    }
    values.update(changes)
    return SendAsk(**values)  # type: ignore[arg-type]


def at(hour: int, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(2026, 2, 16, hour, minute, tzinfo=zone)


def test_inside_the_hours_a_message_goes_to_its_address() -> None:
    assert decide_send(make_ask(), CN, ContactHistory(), at(10)) == SendNow("+8613800000000")


@pytest.mark.parametrize(
    ("ask", "reason"),
    [
        (make_ask(address=None), "no_address"),
        (make_ask(address_valid=False), "invalid_address"),
        (make_ask(suppression="opt_out"), "opt_out"),
    ],
)
def test_no_address_a_bad_one_or_a_suppressed_one_blocks_whatever_the_hour(
    ask: SendAsk, reason: str
) -> None:
    assert decide_send(ask, CN, ContactHistory(), at(3)) == Block(reason)
    assert decide_send(ask, CN, ContactHistory(), at(10)) == Block(reason)


def test_at_night_a_message_is_deferred_to_the_morning_in_the_recipients_zone() -> None:
    verdict = decide_send(make_ask(), CN, ContactHistory(), at(22, 30))

    assert verdict == Defer(
        datetime(2026, 2, 17, 8, 0, tzinfo=SHANGHAI), "contact_hours: 22:00-08:00 in Asia/Shanghai"
    )


def test_the_us_pack_ends_an_hour_earlier_in_new_york() -> None:
    new_york = ZoneInfo("America/New_York")
    ask = make_ask(time_zone="America/New_York")

    assert isinstance(decide_send(ask, US, ContactHistory(), at(20, 59, new_york)), SendNow)
    verdict = decide_send(ask, US, ContactHistory(), at(21, 0, new_york))
    assert isinstance(verdict, Defer)
    assert verdict.until == datetime(2026, 2, 17, 8, 0, tzinfo=new_york)


def test_a_cap_that_notify_s_own_deliveries_fill_defers_to_the_next_day() -> None:
    cap = next(c for c in CN.caps if Channel.SMS in c.channels)
    sent = tuple(
        Attempt(at=at(9, n), channel=Channel.SMS, loan_id="L-1", status=AttemptStatus.DELIVERED)
        for n in range(cap.limit)
    )
    verdict = decide_send(make_ask(), CN, ContactHistory(attempts=sent), at(12))

    assert isinstance(verdict, Defer)
    assert verdict.reason.startswith("daily_attempts")
    assert verdict.until.astimezone(SHANGHAI) == datetime(2026, 2, 17, 8, 0, tzinfo=SHANGHAI)


def test_letters_ignore_the_hours() -> None:
    ask = make_ask(channel="letter", address="1 Road")
    assert decide_send(ask, CN, ContactHistory(), at(3)) == SendNow("1 Road")


def test_the_state_machine_ends_in_failed_and_blocked_and_never_goes_back_to_queued() -> None:
    assert MOVES[Status.FAILED] == MOVES[Status.BLOCKED] == frozenset()
    assert not any(Status.QUEUED in targets for targets in MOVES.values())
    assert may_move(Status.SENDING, Status.DELIVERED)  # a receipt before the record of sent
    assert not may_move(Status.BLOCKED, Status.DELIVERED)
    assert not may_move(Status.SENT, Status.SENDING)


@given(st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=6))
def test_a_fingerprint_ignores_key_order_and_tells_other_bodies_apart(
    body: dict[str, str],
) -> None:
    reordered = dict(reversed(list(body.items())))
    assert fingerprint(body) == fingerprint(reordered)
    assert fingerprint(body) != fingerprint({**body, "\x00extra": "1"})


@pytest.mark.parametrize(
    ("channel", "address", "expected"),
    [
        ("email", " Zhang@Example.COM ", "zhang@example.com"),
        ("sms", "+86 138-0000-0000", "+8613800000000"),
        ("voice", "+1 (212) 555-0100", "+12125550100"),
        ("push", " Token-ABC ", "Token-ABC"),
    ],
)
def test_addresses_have_one_spelling(channel: str, address: str, expected: str) -> None:
    assert normalise(channel, address) == expected


def test_a_signature_covers_exactly_the_body_under_the_secret() -> None:
    body = b'{"message_id": "m", "status": "delivered"}'
    header = sign("s3cret", body)

    assert header.startswith("sha256=")
    assert signature_valid("s3cret", body, header)
    assert signature_valid("s3cret", body, header.upper().replace("SHA256=", "sha256="))
    assert not signature_valid("s3cret", body + b"\n", header)
    assert not signature_valid("other", body, header)
    assert not signature_valid("s3cret", body, None)
    assert not signature_valid("s3cret", body, header.removeprefix("sha256="))


def test_instants_compare_in_utc() -> None:
    verdict = decide_send(
        make_ask(), CN, ContactHistory(), datetime(2026, 2, 16, 14, 30, tzinfo=UTC)
    )
    assert isinstance(verdict, Defer)  # 22:30 in Shanghai
