"""Stop requests and disputes announced by collections hold at send time: a message requested
before either arrived is blocked when it would go, with the rule as its reason."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import text

from postloan_testing.plugin import eventually
from shared.db import Database
from shared.events import DisputeOpened, DisputeResolved, PreferencesChanged

from .conftest import Events, make_contact_request
from .test_sending import message_reaching, prepared


async def mirrored(db: Database, sql: str) -> bool:
    async with db.unit_of_work() as session:
        return bool(await session.scalar(text(sql)))


async def test_a_stopped_channel_blocks_the_send(
    notify: httpx.AsyncClient, events: Events, notify_db: Database
) -> None:
    await prepared(notify, events)
    stopped = PreferencesChanged(borrower_id="B-0001", stopped_channels=["sms"])
    await events.publish(stopped, domain="collections")

    async def known() -> bool:
        return await mirrored(notify_db, "SELECT count(*) FROM mirrored_preference")

    await eventually(known)
    requested = make_contact_request()
    await events.publish(requested, domain="collections")
    message = await message_reaching(notify, requested.request_id, {"sent", "blocked", "failed"})
    assert message["status"] == "blocked"
    assert message["reason"].startswith("stop_contact")


async def test_an_open_dispute_blocks_and_its_resolution_lifts_it(
    notify: httpx.AsyncClient, events: Events, notify_db: Database
) -> None:
    await prepared(notify, events)
    dispute_id = uuid.uuid4()
    opened = DisputeOpened(
        dispute_id=dispute_id, loan_id="L-0001", borrower_id="B-0001", status="open"
    )
    await events.publish(opened, domain="collections")

    async def open_known() -> bool:
        return await mirrored(
            notify_db, "SELECT count(*) FROM mirrored_dispute WHERE status = 'open'"
        )

    await eventually(open_known)
    first = make_contact_request()
    await events.publish(first, domain="collections")
    blocked = await message_reaching(notify, first.request_id, {"sent", "blocked", "failed"})
    assert (blocked["status"], blocked["reason"].split(":")[0]) == ("blocked", "dispute")
    resolved = DisputeResolved(dispute_id=dispute_id, loan_id="L-0001", borrower_id="B-0001",
                               status="resolved", resolution="rejected")  # fmt: skip
    await events.publish(resolved, domain="collections")
    await events.publish(
        opened, domain="collections", msg_id="late copy"
    )  # out of order: no reopening

    async def resolved_known() -> bool:
        return await mirrored(
            notify_db, "SELECT count(*) FROM mirrored_dispute WHERE status = 'resolved'"
        )

    await eventually(resolved_known)
    second = make_contact_request()
    await events.publish(second, domain="collections")
    sent = await message_reaching(notify, second.request_id, {"sent", "blocked", "failed"})
    assert sent["status"] == "sent"
