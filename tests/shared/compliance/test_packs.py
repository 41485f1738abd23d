"""Packs as data: the shipped packs parse, and a bad document gets every mistake with its path."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import time
from importlib import resources
from typing import Any

import pytest

from shared.compliance import FieldError, Pack, default_pack, parse_pack


def shipped(pack_id: str) -> dict[str, Any]:
    raw = resources.files("shared.compliance").joinpath(f"packs/{pack_id}.json").read_text()
    document: dict[str, Any] = json.loads(raw)
    return document


@pytest.mark.parametrize(("pack_id", "end"), [("cn", time(22)), ("us", time(21))], ids=["cn", "us"])
def test_the_shipped_packs_parse_with_their_contact_hours(pack_id: str, end: time) -> None:
    pack = default_pack(pack_id)

    assert isinstance(pack, Pack)
    assert pack.pack_id == pack_id
    assert (pack.contact_hours.start, pack.contact_hours.end) == (time(8), end)


def test_a_bad_pack_gets_every_mistake_with_where_it_is() -> None:
    document = shipped("cn")
    document["contact_hours"]["from"] = "8 o'clock"
    document["caps"]["connected_calls"]["limit"] = -1
    document["legal_notice_waiting_days"] = "fifteen"

    errors = parse_pack(document)

    assert isinstance(errors, list)
    assert all(isinstance(e, FieldError) for e in errors)
    fields = {e.field for e in errors}
    assert {"contact_hours.from", "caps.connected_calls.limit", "legal_notice_waiting_days"} <= (
        fields
    )
    assert all(e.message for e in errors)


def test_a_document_that_is_not_an_object_is_refused_not_raised() -> None:
    errors = parse_pack(["not", "a", "pack"])

    assert isinstance(errors, list)
    assert errors


def test_pack_us_asks_for_an_opt_out_line_in_every_text_and_email_in_both_locales() -> None:
    pack = default_pack("us")

    for channel in ("sms", "email"):
        english, chinese = pack.opt_out_line(channel, "en"), pack.opt_out_line(channel, "zh-CN")
        assert english is not None
        assert "STOP" in english
        assert chinese is not None
        assert "STOP" in chinese
        assert chinese != english
    assert pack.opt_out_line("letter", "en") is None
    assert pack.opt_out_line("voice", "en") is None


def test_a_locale_without_its_own_line_gets_the_english_one() -> None:
    pack = default_pack("us")

    assert pack.opt_out_line("sms", "es") == pack.opt_out_line("sms", "en")


def test_pack_cn_asks_for_no_opt_out_line() -> None:
    pack = default_pack("cn")

    assert all(pack.opt_out_line(channel, "zh-CN") is None for channel in ("sms", "email"))


def test_an_opt_out_channel_without_a_line_and_a_line_without_its_channel_are_mistakes() -> None:
    document = shipped("us")
    del document["opt_out_lines"]["email"]
    document["opt_out_lines"]["push"] = {"en": "Reply STOP."}
    document["opt_out_lines"]["sms"] = {"english": "", "zh-CN": "回复 STOP 退订。"}

    errors = parse_pack(document)

    assert isinstance(errors, list)
    assert {e.field for e in errors} == {
        "opt_out_lines.email",
        "opt_out_lines.push",
        "opt_out_lines.sms.english",
    }


def test_a_channel_with_no_line_in_any_locale_is_a_mistake() -> None:
    document = shipped("us")
    document["opt_out_lines"]["sms"] = {}

    errors = parse_pack(document)

    assert isinstance(errors, list)
    assert [e.field for e in errors] == ["opt_out_lines.sms"]


def test_a_hand_built_pack_that_requires_a_line_it_lacks_refuses_to_answer_none() -> None:
    pack = replace(default_pack("us"), opt_out_lines=())

    with pytest.raises(ValueError, match="opt-out line"):
        pack.opt_out_line("sms", "en")
