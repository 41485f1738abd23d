"""Messages against real PostgreSQL and NATS: one idempotency key, one message, ever — over
the API and from collections' contact requests — with their history and delivery events."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from postloan_testing.plugin import eventually
from shared.db import Database
from shared.events import make_event

from .conftest import (
    NOW,
    SMS_REMINDER,
    Events,
    borrower_known,
    make_contact_request,
    make_loan,
)

REQUEST: dict[str, Any] = {
    "idempotency_key": "k-1",
    "borrower_id": "B-0001",
    "loan_id": "L-0001",
    "channel": "sms",
    "template_id": "reminder-soft",
    "variables": {"name": "张三", "amount_due": "1066.19"},
    "fallback": [],
}


@pytest.fixture
async def ready(notify: httpx.AsyncClient, events: Events) -> httpx.AsyncClient:
    """Notify knowing borrower B-0001 (loan L-0001, pack cn) and template reminder-soft."""
    await events.publish(make_loan(), domain="monitoring")
    await borrower_known(notify)
    stored = await notify.put("/api/v1/templates/reminder-soft", json=SMS_REMINDER)
    assert stored.status_code == 201, stored.text
    return notify


async def messages_of(client: httpx.AsyncClient, **filters: str) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1/messages", params=filters)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def count_messages(db: Database) -> int:
    async with db.unit_of_work() as session:
        return int((await session.execute(text("SELECT count(*) FROM message"))).scalar_one())


async def test_a_posted_message_is_accepted_once_and_the_same_request_answers_it_again(
    ready: httpx.AsyncClient,
) -> None:
    first = await ready.post("/api/v1/messages", json=REQUEST)
    again = await ready.post("/api/v1/messages", json=REQUEST)

    assert (first.status_code, again.status_code) == (202, 200), first.text
    message = first.json()
    assert again.json()["message_id"] == message["message_id"]
    assert message["idempotency_key"] == "k-1"
    assert message["request_id"] is None
    assert (message["borrower_id"], message["loan_id"]) == ("B-0001", "L-0001")
    assert (message["channel"], message["template_id"]) == ("sms", "reminder-soft")
    assert message["status"] == "queued"
    assert (message["reason"], message["deferred_until"], message["provider"]) == (None,) * 3
    assert message["attempts"] == 0
    assert message["created_at"] == NOW.isoformat().replace("+00:00", "Z")
    assert await messages_of(ready, borrower_id="B-0001") != []
    assert len(await messages_of(ready, borrower_id="B-0001")) == 1


async def test_the_same_key_with_another_body_is_a_409_and_changes_nothing(
    ready: httpx.AsyncClient, notify_db: Database
) -> None:
    await ready.post("/api/v1/messages", json=REQUEST)
    other = {**REQUEST, "variables": {"name": "张三", "amount_due": "99.00"}}

    answer = await ready.post("/api/v1/messages", json=other)

    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert await count_messages(notify_db) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"borrower_id": "B-9999"}, "borrower_id"),
        ({"loan_id": "L-9999"}, "loan_id"),
        ({"template_id": "no-such-template"}, "template_id"),
        ({"channel": "email"}, "channel"),
        ({"variables": {"name": "张三"}}, "variables"),
        ({"channel": "fax"}, "channel"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"variables": {"name": "张三", "amount_due": 1066.19}}, "variables.amount_due"),
    ],
)
async def test_a_request_with_a_mistake_is_a_422_naming_it_and_nothing_is_stored(
    ready: httpx.AsyncClient, notify_db: Database, change: dict[str, Any], field: str
) -> None:
    answer = await ready.post("/api/v1/messages", json={**REQUEST, **change})

    assert answer.status_code == 422, answer.text
    fields = [e["field"] for e in answer.json()["errors"]]
    assert any(f.startswith(field) for f in fields), fields
    assert await count_messages(notify_db) == 0


async def test_a_message_shows_its_history_and_its_delivery_event_goes_out(
    ready: httpx.AsyncClient, events: Events
) -> None:
    posted = (await ready.post("/api/v1/messages", json=REQUEST)).json()

    detail = await ready.get(f"/api/v1/messages/{posted['message_id']}")
    missing = await ready.get(f"/api/v1/messages/{uuid.uuid4()}")

    assert detail.status_code == 200, detail.text
    history = detail.json()["history"]
    assert history[0] == {
        "status": "queued",
        "reason": None,
        "deferred_until": None,
        "at": NOW.isoformat().replace("+00:00", "Z"),
    }
    assert missing.status_code == 404

    async def announced() -> bool:
        updates = await events.delivery_updates()
        return any(u["message_id"] == posted["message_id"] for u in updates)

    await eventually(announced)
    first = next(
        u for u in await events.delivery_updates() if u["message_id"] == posted["message_id"]
    )
    assert first == {
        "message_id": posted["message_id"],
        "request_id": None,
        "borrower_id": "B-0001",
        "channel": "sms",
        "status": "queued",
        "reason": None,
    }


async def test_a_contact_request_becomes_exactly_one_message_however_often_it_arrives(
    ready: httpx.AsyncClient, events: Events, notify_db: Database
) -> None:
    requested = make_contact_request()
    event = make_event(requested, source="postloan/collections")
    await events.publish_event(event)
    await events.publish_event(event, msg_id=str(uuid.uuid4()))  # past the duplicate window
    await events.publish(requested, domain="collections")  # a new envelope, the same request

    async def arrived() -> bool:
        return await messages_of(ready, borrower_id="B-0001") != []

    await eventually(arrived)
    marker = make_contact_request(borrower_id="B-0001", template_id="reminder-soft")
    await events.publish(marker, domain="collections")  # published after: applied after

    async def marker_arrived() -> bool:
        return await count_messages(notify_db) == 2

    await eventually(marker_arrived)
    found = [
        m
        for m in await messages_of(ready, borrower_id="B-0001")
        if m["request_id"] == str(requested.request_id)
    ]
    assert len(found) == 1
    message = found[0]
    assert message["idempotency_key"] == str(requested.request_id)
    assert message["case_id"] == str(requested.case_id)
    assert (message["recipient"], message["channel"]) == ("borrower", "sms")

    async def announced() -> bool:
        updates = await events.delivery_updates()
        return any(u["request_id"] == str(requested.request_id) for u in updates)

    await eventually(announced)
    queued = [
        u
        for u in await events.delivery_updates()
        if u["request_id"] == str(requested.request_id) and u["status"] == "queued"
    ]
    assert len(queued) == 1


async def test_a_posted_key_that_a_contact_request_took_is_a_409(
    ready: httpx.AsyncClient, events: Events
) -> None:
    requested = make_contact_request()
    await events.publish(requested, domain="collections")

    async def arrived() -> bool:
        return await messages_of(ready, borrower_id="B-0001") != []

    await eventually(arrived)
    answer = await ready.post(
        "/api/v1/messages", json={**REQUEST, "idempotency_key": str(requested.request_id)}
    )

    assert answer.status_code == 409, answer.text


async def test_the_list_filters_and_pages_newest_first(ready: httpx.AsyncClient) -> None:
    keys = [f"k-{n}" for n in range(5)]
    for key in keys:
        answer = await ready.post("/api/v1/messages", json={**REQUEST, "idempotency_key": key})
        assert answer.status_code == 202, answer.text

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"borrower_id": "B-0001", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await ready.get("/api/v1/messages", params=params)).json()
        seen += [m["idempotency_key"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert sorted(seen) == keys
    assert await messages_of(ready, borrower_id="B-0002") == []
    assert await messages_of(ready, channel="email") == []
    assert len(await messages_of(ready, loan_id="L-0001", channel="sms")) == 5
    bad = await ready.get("/api/v1/messages", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["cursor"]
    unknown = await ready.get("/api/v1/messages", params={"status": "lost"})
    assert unknown.status_code == 422
