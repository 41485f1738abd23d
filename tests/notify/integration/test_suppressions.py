"""Suppressions over HTTP against real PostgreSQL: recorded, listed, lifted, refused when
wrong, and honoured at send time (a suppressed address gets its message blocked)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from postloan_testing.plugin import eventually
from principals import make_principal, signed

from .conftest import Events, make_contact_request
from .test_sending import EMAIL_NOTICE, message_reaching, prepared, sink_of

OPT_OUT = {"channel": "email", "address": "Zhang@Example.com", "reason": "opt_out"}


async def test_a_suppression_is_recorded_once_listed_and_lifted(notify: httpx.AsyncClient) -> None:
    first = await notify.post(
        "/api/v1/suppressions", json=OPT_OUT, auth=signed(make_principal("alice"))
    )
    again = await notify.post("/api/v1/suppressions", json={**OPT_OUT, "reason": "complaint"})
    await notify.post(
        "/api/v1/suppressions",
        json={"channel": "sms", "address": "+86 138-0000-0000", "reason": "invalid_address"},
    )

    assert (first.status_code, again.status_code) == (201, 200), first.text
    stored = first.json()
    assert (stored["channel"], stored["address"], stored["reason"]) == (
        "email",
        "zhang@example.com",
        "opt_out",
    )
    assert stored["created_by"] == "alice"
    assert again.json() == stored
    listed = (await notify.get("/api/v1/suppressions", params={"channel": "sms"})).json()
    assert [s["address"] for s in listed["items"]] == ["+8613800000000"]
    by_address = await notify.get("/api/v1/suppressions", params={"address": "ZHANG@example.com"})
    assert [s["suppression_id"] for s in by_address.json()["items"]] == [stored["suppression_id"]]

    lifted = await notify.delete(f"/api/v1/suppressions/{stored['suppression_id']}")
    gone = await notify.delete(f"/api/v1/suppressions/{stored['suppression_id']}")

    assert (lifted.status_code, gone.status_code) == (204, 404)
    remaining = (await notify.get("/api/v1/suppressions")).json()["items"]
    assert [s["channel"] for s in remaining] == ["sms"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**OPT_OUT, "reason": "annoyed"}, "reason"),
        ({**OPT_OUT, "channel": "letter"}, "channel"),
        ({**OPT_OUT, "address": "not-an-address"}, "address"),
        ({"channel": "sms", "address": "13800000000", "reason": "opt_out"}, "address"),
        ({**OPT_OUT, "extra": 1}, "extra"),
    ],
)
async def test_a_wrong_suppression_is_a_422_naming_the_field_and_stores_nothing(
    notify: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    answer = await notify.post("/api/v1/suppressions", json=body)

    assert answer.status_code == 422, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert (await notify.get("/api/v1/suppressions")).json()["items"] == []


async def test_a_suppressed_address_gets_its_message_blocked_with_the_reason(
    notify: httpx.AsyncClient, events: Events
) -> None:
    await prepared(notify, events, template=EMAIL_NOTICE)
    await notify.post("/api/v1/suppressions", json=OPT_OUT)
    requested = make_contact_request(channel="email", template_id="second-notice")
    await events.publish(requested, domain="collections")

    message = await message_reaching(notify, requested.request_id, {"blocked", "sent"})

    assert (message["status"], message["reason"]) == ("blocked", "opt_out")
    assert [h["status"] for h in message["history"]] == ["queued", "blocked"]
    assert await sink_of(notify, "email") == []

    async def announced() -> bool:
        return any(
            u["request_id"] == str(requested.request_id) and u["status"] == "blocked"
            for u in await events.delivery_updates()
        )

    await eventually(announced)
    updates = [u for u in await events.delivery_updates() if u["status"] == "blocked"]
    assert [u["reason"] for u in updates] == ["opt_out"]


async def test_once_lifted_the_next_message_goes_again(
    notify: httpx.AsyncClient, events: Events
) -> None:
    await prepared(notify, events, template=EMAIL_NOTICE)
    stored = (await notify.post("/api/v1/suppressions", json=OPT_OUT)).json()
    await notify.delete(f"/api/v1/suppressions/{stored['suppression_id']}")
    requested = make_contact_request(channel="email", template_id="second-notice")
    await events.publish(requested, domain="collections")

    message = await message_reaching(notify, requested.request_id, {"blocked", "sent"})

    assert message["status"] == "sent"
    [received] = await sink_of(notify, "email")
    assert (received["address"], received["subject"]) == ("zhang@example.com", "张三，还款提醒")
