"""Packs as data: the shipped packs parse, and a bad document gets every mistake with its path."""

from __future__ import annotations

import json
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
