"""Providers' receipts against real PostgreSQL and NATS: signed with the channel's webhook
secret or refused (401, nothing changed), applied once (a replay is a 409), a hard bounce
suppressing the address, and each change announced as notify.delivery.updated."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from notify.domain.signatures import sign
from notify.main import create_app
from notify.settings import NotifySettings
from postloan_testing.plugin import eventually
from postloan_testing.servers import running
from principals import UNSIGNED
from principals import signed as signed_principal

from .conftest import Clock, Events, make_contact_request, with_changes
from .test_sending import message_reaching, prepared

SECRET = "whsec-test-0123456789"
AT = "2026-02-16T10:00:05+08:00"


@pytest.fixture
async def signed(notify_settings: NotifySettings, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    """Notify with a webhook secret for SMS receipts (none for push)."""
    settings = with_changes(notify_settings, sms_webhook_secret=SECRET)
    async with running(create_app(settings, clock=clock), auth=signed_principal()) as client:
        yield client


async def sent_sms(client: httpx.AsyncClient, events: Events) -> dict[str, Any]:
    requested = make_contact_request()
    await events.publish(requested, domain="collections")
    return await message_reaching(client, requested.request_id, {"sent"})


def receipt(message_id: str, status: str = "delivered", **extra: Any) -> bytes:
    return json.dumps({"message_id": message_id, "status": status, "at": AT, **extra}).encode()


async def post(
    client: httpx.AsyncClient, body: bytes, signature: str | None, channel: str = "sms"
) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["x-postloan-signature"] = signature
    # As a provider sends it: no principal of ours, the signature is the credential.
    path = f"/api/v1/providers/{channel}/receipts"
    return await client.post(path, content=body, headers=headers, auth=UNSIGNED)


async def test_unsigned_or_wrongly_signed_receipts_are_401_and_change_nothing(
    signed: httpx.AsyncClient, events: Events
) -> None:
    await prepared(signed, events)
    message = await sent_sms(signed, events)
    body = receipt(message["message_id"])

    answers = [
        await post(signed, body, None),
        await post(signed, body, sign("another-secret", body)),
        await post(signed, body, sign(SECRET, body + b" ")),  # signs other bytes
        await post(signed, body, sign(SECRET, body).removeprefix("sha256=")),
        await post(signed, body, sign(SECRET, body), channel="push"),  # no secret for push
    ]

    assert [a.status_code for a in answers] == [401] * 5
    assert answers[0].headers["content-type"] == "application/problem+json"
    after = (await signed.get(f"/api/v1/messages/{message['message_id']}")).json()
    assert (after["status"], after["delivered_at"]) == ("sent", None)


async def test_a_signed_receipt_is_applied_once_and_its_replay_is_a_409(
    signed: httpx.AsyncClient, events: Events
) -> None:
    await prepared(signed, events)
    message = await sent_sms(signed, events)
    body = receipt(message["message_id"])

    applied = await post(signed, body, sign(SECRET, body))
    replayed = await post(signed, body, sign(SECRET, body))

    assert applied.status_code == 200, applied.text
    assert applied.json()["status"] == "delivered"
    assert applied.json()["delivered_at"] == "2026-02-16T02:00:05Z"
    assert replayed.status_code == 409
    after = (await signed.get(f"/api/v1/messages/{message['message_id']}")).json()
    assert [h["status"] for h in after["history"]] == ["queued", "sending", "sent", "delivered"]

    async def announced() -> bool:
        mine = [
            u for u in await events.delivery_updates() if u["message_id"] == message["message_id"]
        ]
        return [u["status"] for u in mine] == ["queued", "sending", "sent", "delivered"]

    await eventually(announced)


async def test_a_hard_bounce_fails_the_message_and_suppresses_the_address(
    signed: httpx.AsyncClient, events: Events
) -> None:
    await prepared(signed, events)
    message = await sent_sms(signed, events)
    body = receipt(message["message_id"], "failed", reason="hard_bounce")

    answer = await post(signed, body, sign(SECRET, body))

    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["reason"]) == ("failed", "hard_bounce")
    [suppression] = (await signed.get("/api/v1/suppressions")).json()["items"]
    assert (suppression["channel"], suppression["address"]) == ("sms", "+8613800000000")
    assert (suppression["reason"], suppression["message_id"]) == (
        "hard_bounce",
        message["message_id"],
    )
    nxt = make_contact_request()
    await events.publish(nxt, domain="collections")
    blocked = await message_reaching(signed, nxt.request_id, {"blocked", "sent"})
    assert (blocked["status"], blocked["reason"]) == ("blocked", "hard_bounce")

    async def announced() -> bool:
        return any(
            u["message_id"] == message["message_id"]
            and (u["status"], u["reason"]) == ("failed", "hard_bounce")
            for u in await events.delivery_updates()
        )

    await eventually(announced)


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"not json", None),
        (json.dumps({"status": "delivered", "at": AT}).encode(), "message_id"),
        (json.dumps({"message_id": "x", "status": "delivered", "at": AT}).encode(), "message_id"),
        (
            json.dumps(
                {
                    "message_id": str(uuid.uuid4()),
                    "provider_message_id": "SM1",
                    "status": "delivered",
                    "at": AT,
                }
            ).encode(),
            "message_id",
        ),
        (
            json.dumps({"message_id": str(uuid.uuid4()), "status": "read", "at": AT}).encode(),
            "status",
        ),
        (
            json.dumps(
                {"message_id": str(uuid.uuid4()), "status": "delivered", "at": "10:00"}
            ).encode(),
            "at",
        ),
    ],
)
async def test_a_signed_receipt_that_is_not_one_is_a_422(
    signed: httpx.AsyncClient, content: bytes, field: str | None
) -> None:
    answer = await post(signed, content, sign(SECRET, content))

    assert answer.status_code == 422, answer.text
    if field is not None:
        assert field in [e["field"] for e in answer.json()["errors"]]


async def test_a_receipt_for_no_message_of_its_channel_is_a_404(
    signed: httpx.AsyncClient, events: Events
) -> None:
    body = receipt(str(uuid.uuid4()))

    answer = await post(signed, body, sign(SECRET, body))

    assert answer.status_code == 404


async def test_a_receipt_for_a_message_never_handed_over_is_a_409(
    signed: httpx.AsyncClient, events: Events
) -> None:
    await prepared(signed, events)
    await signed.post(
        "/api/v1/suppressions",
        json={"channel": "sms", "address": "+8613800000000", "reason": "opt_out"},
    )
    requested = make_contact_request()
    await events.publish(requested, domain="collections")
    blocked = await message_reaching(signed, requested.request_id, {"blocked"})
    body = receipt(blocked["message_id"])

    answer = await post(signed, body, sign(SECRET, body))
    again = await post(signed, body, sign(SECRET, body))

    assert (answer.status_code, again.status_code) == (409, 409)
    after = (await signed.get(f"/api/v1/messages/{blocked['message_id']}")).json()
    assert after["status"] == "blocked"
