"""The send worker against real PostgreSQL, NATS, SMTP and HTTP: messages rendered in the
recipient's language and handed over once — to the local sink, to an aiosmtpd server, to a
counting HTTP provider that fails before it answers, after a crash mid-send — and deferred
out of the night in the recipient's own time zone until the clock gets there."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from providers import CountingProvider, http_provider, smtp_server
from sqlalchemy import text

from notify.main import create_app
from notify.settings import NotifySettings
from postloan_testing.plugin import eventually
from postloan_testing.servers import running
from principals import signed
from shared.compliance import default_pack
from shared.db import Database

from .conftest import (
    NOW,
    SMS_REMINDER,
    Clock,
    Events,
    borrower_known,
    make_contact_request,
    make_loan,
    with_changes,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
EMAIL_NOTICE: dict[str, Any] = {
    "channel": "email",
    "purpose": "reminder",
    "variables": ["name", "amount_due"],
    "locales": {
        "zh-CN": {
            "subject": "{{ name }}，还款提醒",
            "body": "{{ name }}，您本期应还{{ amount_due }}元。",
        },
        "en": {"subject": "Payment reminder", "body": "{{ name }}, {{ amount_due }} is due."},
    },
}


async def prepared(
    client: httpx.AsyncClient,
    events: Events,
    *,
    template: dict[str, Any] = SMS_REMINDER,
    **loan: Any,
) -> None:
    """Notify knowing the loan's borrower and the template the requests name."""
    await events.publish(make_loan(**loan), domain="monitoring")
    await borrower_known(client, loan.get("borrower_id", "B-0001"))
    template_id = "reminder-soft" if template["channel"] == "sms" else "second-notice"
    stored = await client.put(f"/api/v1/templates/{template_id}", json=template)
    assert stored.status_code == 201, stored.text


async def message_reaching(
    client: httpx.AsyncClient, request_id: uuid.UUID, statuses: set[str]
) -> dict[str, Any]:
    """The message of ``request_id`` once its status is one of ``statuses``."""
    found: dict[str, Any] = {}

    async def reached() -> bool:
        page = (await client.get("/api/v1/messages")).json()["items"]
        mine = [m for m in page if m["request_id"] == str(request_id)]
        if mine and mine[0]["status"] in statuses:
            found.update(mine[0])
            return True
        return False

    await eventually(reached)
    detail = await client.get(f"/api/v1/messages/{found['message_id']}")
    result: dict[str, Any] = detail.json()
    return result


def statuses(message: dict[str, Any]) -> list[str]:
    return [h["status"] for h in message["history"]]


async def sink_of(client: httpx.AsyncClient, channel: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (
        await client.get("/api/v1/notify/sink", params={"channel": channel})
    ).json()["items"]
    return items


async def test_a_requested_sms_reaches_the_sink_once_in_the_borrowers_language(
    notify: httpx.AsyncClient, events: Events
) -> None:
    await prepared(notify, events)
    requested = make_contact_request()
    await events.publish(requested, domain="collections")

    message = await message_reaching(notify, requested.request_id, {"sent", "failed", "blocked"})

    assert message["status"] == "sent", message
    assert statuses(message) == ["queued", "sending", "sent"]
    assert (message["provider"], message["attempts"]) == ("sink", 1)
    assert (message["template_version"], message["locale"]) == (1, "zh-CN")
    assert message["sent_at"] == NOW.isoformat().replace("+00:00", "Z")
    [received] = await sink_of(notify, "sms")
    assert received["message_id"] == message["message_id"]
    assert received["address"] == "+8613800000000"
    assert received["text"] == "张三，您本期应还1066.19元。"

    async def announced() -> bool:
        mine = [
            u for u in await events.delivery_updates() if u["message_id"] == message["message_id"]
        ]
        return [u["status"] for u in mine] == ["queued", "sending", "sent"]

    await eventually(announced)
    update = (await events.delivery_updates())[-1]
    assert update["request_id"] == str(requested.request_id)
    assert update["reason"] is None


async def test_at_night_in_the_borrowers_zone_a_message_waits_and_goes_when_the_clock_gets_there(
    notify: httpx.AsyncClient, events: Events, clock: Clock
) -> None:
    clock.at = datetime(2026, 2, 16, 23, 30, tzinfo=SHANGHAI)
    await prepared(notify, events)
    requested = make_contact_request()
    await events.publish(requested, domain="collections")

    deferred = await message_reaching(notify, requested.request_id, {"deferred", "sent"})

    morning = datetime(2026, 2, 17, 8, 0, tzinfo=SHANGHAI)
    assert deferred["status"] == "deferred"
    assert deferred["reason"] == "contact_hours: 22:00-08:00 in Asia/Shanghai"
    assert datetime.fromisoformat(deferred["deferred_until"]) == morning
    assert deferred["history"][-1]["deferred_until"] == deferred["deferred_until"]
    assert await sink_of(notify, "sms") == []

    clock.at = morning - timedelta(seconds=1)
    await asyncio.sleep(0.3)  # a few rounds of the worker: still the night
    still = (await notify.get(f"/api/v1/messages/{deferred['message_id']}")).json()
    assert still["status"] == "deferred"
    clock.at = morning
    sent = await message_reaching(notify, requested.request_id, {"sent"})

    assert statuses(sent) == ["queued", "deferred", "sending", "sent"]
    assert (sent["reason"], sent["deferred_until"]) == (None, None)
    assert len(await sink_of(notify, "sms")) == 1


async def test_the_hours_are_those_of_the_recipients_own_zone_and_pack(
    notify: httpx.AsyncClient, events: Events, clock: Clock
) -> None:
    # 10:00 in Shanghai is 21:00 the evening before in New York: past pack us's hours.
    await prepared(notify, events, time_zone="America/New_York", locale="en", jurisdiction="us")
    requested = make_contact_request(pack="us")
    await events.publish(requested, domain="collections")

    deferred = await message_reaching(notify, requested.request_id, {"deferred", "sent"})

    assert deferred["status"] == "deferred"
    assert deferred["reason"] == "contact_hours: 21:00-08:00 in America/New_York"
    morning = datetime(2026, 2, 16, 8, 0, tzinfo=NEW_YORK)
    assert datetime.fromisoformat(deferred["deferred_until"]) == morning
    clock.at = morning
    sent = await message_reaching(notify, requested.request_id, {"sent"})
    [received] = await sink_of(notify, "sms")
    line = default_pack("us").opt_out_line("sms", "en")
    assert received["text"] == f"张三, 1066.19 is due.\n{line}"  # texts: one line break
    assert sent["locale"] == "en"


async def test_a_real_email_is_received_with_its_subject_and_the_us_opt_out_line(
    notify_settings: NotifySettings, clock: Clock, events: Events
) -> None:
    clock.at = datetime(2026, 2, 16, 10, 0, tzinfo=NEW_YORK)
    async with smtp_server() as server:
        settings = with_changes(
            notify_settings, smtp_url=server.url(), smtp_from="no-reply@postloan.test"
        )
        async with running(create_app(settings, clock=clock), auth=signed()) as client:
            await prepared(
                client,
                events,
                template=EMAIL_NOTICE,
                time_zone="America/New_York",
                locale="en",
                jurisdiction="us",
            )
            requested = make_contact_request(
                channel="email", template_id="second-notice", pack="us"
            )
            await events.publish(requested, domain="collections")
            message = await message_reaching(client, requested.request_id, {"sent", "failed"})

    assert message["status"] == "sent", message
    assert (message["provider"], message["attempts"]) == ("smtp", 1)
    [(recipients, mail)] = server.inbox.received
    assert recipients == ["zhang@example.com"]
    assert mail["Subject"] == "Payment reminder"
    assert mail["To"] == "zhang@example.com"
    body = mail.get_body()
    assert body is not None
    line = default_pack("us").opt_out_line("email", "en")
    content = body.get_content().replace("\r\n", "\n").strip()  # SMTP lines end in CRLF
    assert content == f"张三, 1066.19 is due.\n\n{line}"


async def test_a_provider_failing_twice_gets_the_one_message_three_times_under_one_key(
    notify_settings: NotifySettings, clock: Clock, events: Events
) -> None:
    provider = CountingProvider([503, 503])
    async with http_provider(provider) as url:
        settings = with_changes(notify_settings, sms_provider_url=url, sms_provider_token="tok")
        async with running(create_app(settings, clock=clock), auth=signed()) as client:
            await prepared(client, events)
            requested = make_contact_request()
            await events.publish(requested, domain="collections")
            message = await message_reaching(client, requested.request_id, {"sent", "failed"})

    assert message["status"] == "sent", message
    assert (message["provider"], message["attempts"]) == ("http", 3)
    assert statuses(message) == ["queued", "sending", "sent"]
    assert [c["key"] for c in provider.calls] == [message["message_id"]] * 3
    assert {c["body"]["message_id"] for c in provider.calls} == {message["message_id"]}
    assert {c["authorization"] for c in provider.calls} == {"Bearer tok"}
    assert list(provider.received) == [message["message_id"]]


async def test_a_provider_refusing_the_message_fails_it_with_the_reason(
    notify_settings: NotifySettings, clock: Clock, events: Events
) -> None:
    provider = CountingProvider([400])
    async with http_provider(provider) as url:
        settings = with_changes(notify_settings, sms_provider_url=url)
        async with running(create_app(settings, clock=clock), auth=signed()) as client:
            await prepared(client, events)
            requested = make_contact_request()
            await events.publish(requested, domain="collections")
            message = await message_reaching(client, requested.request_id, {"sent", "failed"})

    assert message["status"] == "failed"
    assert message["reason"] == "provider_rejected: HTTP 400"
    assert (message["attempts"], len(provider.calls)) == (1, 1)


async def test_a_send_cut_off_after_the_hand_over_is_resumed_with_the_same_id_and_key(
    notify_settings: NotifySettings, clock: Clock, events: Events, database_url: str
) -> None:
    provider = CountingProvider(["slow"], slow_s=5.0)
    async with http_provider(provider) as url:
        settings = with_changes(notify_settings, sms_provider_url=url, provider_timeout_s=10.0)
        async with running(create_app(settings, clock=clock), auth=signed()) as client:
            await prepared(client, events)
            requested = make_contact_request()
            await events.publish(requested, domain="collections")

            async def handed_over() -> bool:
                return len(provider.calls) == 1

            await eventually(handed_over)
        # The process stopped with the provider holding the message and no answer recorded.
        db = Database(database_url)
        try:
            async with db.unit_of_work() as session:
                row = (await session.execute(text("SELECT status, due_at FROM message"))).one()
        finally:
            await db.dispose()
        assert row.status == "sending"

        clock.at = row.due_at + timedelta(seconds=1)  # the lease has passed
        async with running(create_app(settings, clock=clock), auth=signed()) as client:
            message = await message_reaching(client, requested.request_id, {"sent", "failed"})
            listed = (await client.get("/api/v1/messages")).json()["items"]

    assert message["status"] == "sent", message
    assert len(listed) == 1
    assert [c["key"] for c in provider.calls] == [message["message_id"]] * 2
    assert list(provider.received) == [message["message_id"]]
    assert statuses(message) == ["queued", "sending", "sent"]


async def test_a_message_whose_template_went_missing_fails_with_why(
    notify: httpx.AsyncClient, events: Events
) -> None:
    await prepared(notify, events)
    requested = make_contact_request(template_id="never-uploaded")
    await events.publish(requested, domain="collections")

    message = await message_reaching(notify, requested.request_id, {"failed", "sent"})

    assert message["status"] == "failed"
    assert message["reason"].startswith("render_failed:")
    assert await sink_of(notify, "sms") == []


async def test_push_without_a_known_token_is_blocked_not_dropped(
    notify: httpx.AsyncClient, events: Events
) -> None:
    await prepared(notify, events, template={**SMS_REMINDER, "channel": "push"})
    await notify.put("/api/v1/templates/push-reminder", json={**SMS_REMINDER, "channel": "push"})
    requested = make_contact_request(channel="push", template_id="push-reminder")
    await events.publish(requested, domain="collections")

    message = await message_reaching(notify, requested.request_id, {"blocked", "sent", "failed"})

    assert (message["status"], message["reason"]) == ("blocked", "no_address")
