"""Rate limits against real PostgreSQL and NATS: a borrower's and a provider's, each deferring
the message over the limit to the moment the window has room (never dropping it), and sending
it then."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from notify.main import create_app
from notify.settings import NotifySettings
from postloan_testing.plugin import eventually
from postloan_testing.servers import running
from principals import signed

from .conftest import NOW, Clock, Events, borrower_known, make_loan, with_changes
from .test_sending import prepared, sink_of


async def post_sms(client: httpx.AsyncClient, key: str, borrower: str = "B-0001") -> str:
    request = {
        "idempotency_key": key,
        "borrower_id": borrower,
        "channel": "sms",
        "template_id": "reminder-soft",
        "variables": {"name": "张三", "amount_due": "1066.19"},
    }
    answer = await client.post("/api/v1/messages", json=request)
    assert answer.status_code == 202, answer.text
    message_id: str = answer.json()["message_id"]
    return message_id


async def settled(client: httpx.AsyncClient, message_id: str, statuses: set[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def reached() -> bool:
        found.update((await client.get(f"/api/v1/messages/{message_id}")).json())
        return found["status"] in statuses

    await eventually(reached)
    return found


async def test_a_borrower_over_their_limit_waits_for_the_window_then_gets_the_message(
    notify_settings: NotifySettings, clock: Clock, events: Events
) -> None:
    settings = with_changes(notify_settings, borrower_rate_limit="2/1h")
    async with running(create_app(settings, clock=clock), auth=signed()) as client:
        await prepared(client, events)
        first = [await post_sms(client, f"k-{n}") for n in (1, 2)]
        for message_id in first:
            assert (await settled(client, message_id, {"sent"}))["status"] == "sent"
        clock.at = NOW + timedelta(minutes=10)
        third = await post_sms(client, "k-3")

        deferred = await settled(client, third, {"deferred", "sent"})
        assert deferred["status"] == "deferred"
        assert deferred["reason"] == "rate_limit: at most 2 per 1:00:00 to the borrower"
        assert datetime.fromisoformat(deferred["deferred_until"]) == NOW + timedelta(hours=1)
        assert len(await sink_of(client, "sms")) == 2

        clock.at = NOW + timedelta(hours=1)
        sent = await settled(client, third, {"sent"})

    assert [h["status"] for h in sent["history"]] == ["queued", "deferred", "sending", "sent"]


async def test_a_providers_limit_holds_across_borrowers(
    notify_settings: NotifySettings, clock: Clock, events: Events
) -> None:
    settings = with_changes(notify_settings, sms_rate_limit="1/1m")
    async with running(create_app(settings, clock=clock), auth=signed()) as client:
        await prepared(client, events)
        await events.publish(make_loan(loan_id="L-0002", borrower_id="B-0002"), domain="monitoring")
        await borrower_known(client, "B-0002")
        first = await post_sms(client, "k-1")
        assert (await settled(client, first, {"sent"}))["status"] == "sent"
        second = await post_sms(client, "k-2", borrower="B-0002")

        deferred = await settled(client, second, {"deferred", "sent"})
        assert deferred["reason"] == "rate_limit: at most 1 per 0:01:00 through the sms provider"
        assert datetime.fromisoformat(deferred["deferred_until"]) == NOW + timedelta(minutes=1)

        clock.at = NOW + timedelta(minutes=1)
        assert (await settled(client, second, {"sent"}))["status"] == "sent"
        assert len(await sink_of(client, "sms")) == 2
