"""Push tokens from the lender's ``contact.updated`` (real NATS and PostgreSQL): a push message
goes to the borrower's latest token; an older update arriving late changes nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import text

from postloan_testing.plugin import eventually
from shared.db import Database
from shared.events import ContactUpdated

from .conftest import NOW, SMS_REMINDER, Events, make_contact_request
from .test_sending import message_reaching, prepared, sink_of

PUSH = {**SMS_REMINDER, "channel": "push"}


async def token_of(db: Database, borrower_id: str = "B-0001") -> str | None:
    async with db.unit_of_work() as session:
        query = text("SELECT push_token FROM recipient WHERE borrower_id = :b")
        token: str | None = (await session.execute(query, {"b": borrower_id})).scalar_one()
        return token


async def test_a_push_message_goes_to_the_latest_token_the_lender_announced(
    notify: httpx.AsyncClient, notify_db: Database, events: Events
) -> None:
    await prepared(notify, events, template=PUSH)
    await notify.put("/api/v1/templates/push-reminder", json=PUSH)
    newer = ContactUpdated(borrower_id="B-0001", updated_at=NOW, push_token="fcm:token-2")
    older = ContactUpdated(
        borrower_id="B-0001", updated_at=NOW - timedelta(hours=1), push_token="fcm:token-1"
    )
    await events.publish(newer, domain="ingest")

    async def applied() -> bool:
        return await token_of(notify_db) == "fcm:token-2"

    await eventually(applied)
    await events.publish(older, domain="ingest")  # overtaken: must not win
    # A later update behind it on the same stream: once it is applied, so was the older one.
    marker = ContactUpdated(borrower_id="B-0001", updated_at=NOW + timedelta(seconds=1))
    await events.publish(marker, domain="ingest")

    async def marker_applied() -> bool:
        async with notify_db.unit_of_work() as session:
            query = text("SELECT contact_updated_at FROM recipient WHERE borrower_id = 'B-0001'")
            return bool((await session.execute(query)).scalar_one() == marker.updated_at)

    await eventually(marker_applied)
    assert await token_of(notify_db) == "fcm:token-2"
    requested = make_contact_request(channel="push", template_id="push-reminder")
    await events.publish(requested, domain="collections")
    message = await message_reaching(notify, requested.request_id, {"sent", "blocked", "failed"})

    assert message["status"] == "sent", message
    [received] = await sink_of(notify, "push")
    assert received["address"] == "fcm:token-2"
    assert received["text"] == "张三，您本期应还1066.19元。"
    assert await token_of(notify_db) == "fcm:token-2"
