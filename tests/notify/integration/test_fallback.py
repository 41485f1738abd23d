"""Fallback channels against real PostgreSQL, NATS and HTTP (BRIEF decision 9): a message that
is blocked, refused by its provider, or not handed over in time gives way to a new message on
the next channel (``fallback_of``), which passes every check of its own; a message handed to a
provider never falls back, and never do both arrive."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from providers import CountingProvider, http_provider

from notify.main import create_app
from notify.settings import NotifySettings
from postloan_testing.servers import running
from principals import signed

from .conftest import NOW, SMS_REMINDER, Clock, Events, with_changes
from .test_rate_limits import settled
from .test_sending import EMAIL_NOTICE, prepared, sink_of

LETTER: dict[str, Any] = {**EMAIL_NOTICE, "channel": "letter"}


async def post(
    client: httpx.AsyncClient, channel: str, template_id: str, fallback: list[str]
) -> dict[str, Any]:
    request = {
        "idempotency_key": "k-1",
        "borrower_id": "B-0001",
        "loan_id": "L-0001",
        "channel": channel,
        "template_id": template_id,
        "variables": {"name": "张三", "amount_due": "1066.19"},
        "fallback": fallback,
    }
    answer = await client.post("/api/v1/messages", json=request)
    assert answer.status_code == 202, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def fallback_of(client: httpx.AsyncClient, message_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await client.get("/api/v1/messages")).json()["items"]
    return [m for m in items if m["fallback_of"] == message_id]


async def upload(client: httpx.AsyncClient, template_id: str, document: dict[str, Any]) -> None:
    stored = await client.put(f"/api/v1/templates/{template_id}", json=document)
    assert stored.status_code == 201, stored.text


async def test_an_email_to_an_opted_out_address_falls_back_to_one_sms(
    notify: httpx.AsyncClient, events: Events
) -> None:
    await prepared(notify, events, template=EMAIL_NOTICE)
    await upload(notify, "second-notice.sms", SMS_REMINDER)
    opt_out = {"channel": "email", "address": "zhang@example.com", "reason": "opt_out"}
    assert (await notify.post("/api/v1/suppressions", json=opt_out)).status_code == 201

    first = await post(notify, "email", "second-notice", ["sms"])
    blocked = await settled(notify, first["message_id"], {"blocked", "sent"})
    [fallback] = await fallback_of(notify, first["message_id"])
    sent = await settled(notify, fallback["message_id"], {"sent", "blocked", "failed"})

    assert (blocked["status"], blocked["reason"]) == ("blocked", "opt_out")
    assert sent["status"] == "sent", sent
    assert (sent["channel"], sent["template_id"], sent["fallback"]) == (
        "sms",
        "second-notice.sms",
        [],
    )
    assert sent["idempotency_key"] == f"fallback:{first['message_id']}:sms"
    assert await sink_of(notify, "email") == []
    assert [m["message_id"] for m in await sink_of(notify, "sms")] == [sent["message_id"]]


async def test_a_message_the_provider_refuses_falls_back_and_the_fallback_has_its_own_checks(
    notify_settings: NotifySettings, clock: Clock, events: Events
) -> None:
    provider = CountingProvider([400])
    async with http_provider(provider) as url:
        settings = with_changes(notify_settings, sms_provider_url=url)
        async with running(create_app(settings, clock=clock), auth=signed()) as client:
            await prepared(client, events)
            await upload(client, "reminder-soft.email", EMAIL_NOTICE)
            first = await post(client, "sms", "reminder-soft", ["email"])
            failed = await settled(client, first["message_id"], {"failed", "sent"})
            [fallback] = await fallback_of(client, first["message_id"])
            sent = await settled(client, fallback["message_id"], {"sent", "failed", "blocked"})
            emails = await sink_of(client, "email")

    assert (failed["status"], failed["reason"]) == ("failed", "provider_rejected: HTTP 400")
    assert provider.received == {}
    assert (sent["status"], sent["channel"]) == ("sent", "email")
    assert [e["subject"] for e in emails] == ["张三，还款提醒"]


async def test_a_message_held_by_the_night_gives_way_to_a_letter_after_the_configured_time(
    notify_settings: NotifySettings, clock: Clock, events: Events
) -> None:
    clock.at = datetime(2026, 2, 16, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    settings = with_changes(notify_settings, fallback_after_s=600)
    async with running(create_app(settings, clock=clock), auth=signed()) as client:
        await prepared(client, events)
        await upload(client, "reminder-soft.letter", LETTER)
        first = await post(client, "sms", "reminder-soft", ["letter"])
        deferred = await settled(client, first["message_id"], {"deferred", "sent"})
        assert deferred["reason"].startswith("contact_hours")
        assert await fallback_of(client, first["message_id"]) == []

        clock.at += timedelta(minutes=10)  # still night for SMS; letters keep no hours
        cancelled = await settled(client, first["message_id"], {"blocked"})
        [fallback] = await fallback_of(client, first["message_id"])
        letter = await settled(client, fallback["message_id"], {"sent", "failed", "blocked"})
        document = await client.get(f"/api/v1/messages/{fallback['message_id']}/document")
        texts = await sink_of(client, "sms")

    assert cancelled["reason"] == (
        "fallback_timeout: not handed to a provider within 0:10:00; falling back to letter"
    )
    assert [h["status"] for h in cancelled["history"]] == ["queued", "deferred", "blocked"]
    assert (letter["status"], letter["provider"]) == ("sent", "pdf")
    assert document.status_code == 200
    assert texts == []


async def test_a_sent_message_never_falls_back_however_long_it_waits_for_a_receipt(
    notify_settings: NotifySettings, clock: Clock, events: Events
) -> None:
    settings = with_changes(notify_settings, fallback_after_s=60)
    async with running(create_app(settings, clock=clock), auth=signed()) as client:
        await prepared(client, events)
        await upload(client, "reminder-soft.email", EMAIL_NOTICE)
        first = await post(client, "sms", "reminder-soft", ["email"])
        assert (await settled(client, first["message_id"], {"sent"}))["status"] == "sent"
        clock.at = NOW + timedelta(hours=2)
        again = await settled(client, first["message_id"], {"sent"})
        listed = (await client.get("/api/v1/messages")).json()["items"]
        emails = await sink_of(client, "email")

    assert again["status"] == "sent"
    assert len(listed) == 1
    assert emails == []


async def test_a_fallback_needs_its_template_another_channel_and_is_refused_whole_otherwise(
    notify: httpx.AsyncClient, events: Events
) -> None:
    await prepared(notify, events)
    request = {
        "idempotency_key": "k-1",
        "borrower_id": "B-0001",
        "channel": "sms",
        "template_id": "reminder-soft",
        "variables": {"name": "张三", "amount_due": "1066.19"},
        "fallback": ["email", "sms"],
    }

    answer = await notify.post("/api/v1/messages", json=request)

    assert answer.status_code == 422
    assert [(e["field"], e["message"]) for e in answer.json()["errors"]] == [
        ("fallback[0]", "needs the template 'reminder-soft.email'"),
        ("fallback[1]", "must be another channel than those before it"),
    ]
    assert (await notify.get("/api/v1/messages")).json()["items"] == []
