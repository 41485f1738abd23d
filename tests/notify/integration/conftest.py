"""Notify under test: the service on real PostgreSQL and NATS, sending by a wall clock the test
holds (10:00 in Shanghai unless a test moves it), fed monitoring's and collections' events."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import nats
import pytest
from pydantic import SecretStr

from factories import make_registration
from notify.main import create_app
from notify.settings import NotifySettings
from postloan_testing.plugin import NatsUnderTest, eventually
from postloan_testing.servers import running
from principals import PRINCIPAL_SECRET, signed
from shared.db import Database
from shared.events import CloudEvent, ContactRequested, LoanAccepted, Payload, make_event

#: 10:00 in Asia/Shanghai (02:00 UTC): inside the contact hours of every pack.
NOW = datetime(2026, 2, 16, 2, 0, tzinfo=UTC)


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class Events:
    """Publishes events as monitoring and collections do, and reads what notify published."""

    def __init__(self, nats_url: str) -> None:
        self.nats_url = nats_url

    async def publish(self, payload: Payload, *, domain: str, msg_id: str | None = None) -> None:
        await self.publish_event(make_event(payload, source=f"postloan/{domain}", domain=domain))

    async def publish_event(self, event: CloudEvent, *, msg_id: str | None = None) -> None:
        """``msg_id`` other than the event's id gets a copy past JetStream's duplicate window,
        as a re-publication after the window would."""
        nc = await nats.connect(self.nats_url)
        try:
            await nc.jetstream().publish(
                event.spec.subject,
                event.model_dump_json().encode(),
                headers={"Nats-Msg-Id": msg_id or str(event.id)},
            )
        finally:
            await nc.close()

    async def delivery_updates(self) -> list[dict[str, Any]]:
        """The data of every ``notify.delivery.updated`` so far, in order."""
        nc = await nats.connect(self.nats_url)
        try:
            js = nc.jetstream()
            sub = await js.pull_subscribe(
                "postloan.notify.delivery.updated", stream="POSTLOAN_NOTIFY"
            )
            found: list[dict[str, Any]] = []
            while True:
                try:
                    msgs = await sub.fetch(500, timeout=0.5)
                except TimeoutError:
                    return found
                for msg in msgs:
                    found.append(json.loads(msg.data)["data"])
                    await msg.ack()
        finally:
            await nc.close()


def make_loan(
    *,
    loan_id: str = "L-0001",
    borrower_id: str = "B-0001",
    jurisdiction: str = "cn",
    **borrower: Any,
) -> LoanAccepted:
    """Monitoring's ``loan.registered`` of a loan whose borrower has ``borrower``'s fields."""
    body = make_registration(loan_id=loan_id, borrower_id=borrower_id)
    body["borrower"].update(borrower)
    return LoanAccepted.model_validate({**body, "jurisdiction": jurisdiction})


def make_contact_request(
    *,
    loan_id: str = "L-0001",
    borrower_id: str = "B-0001",
    channel: str = "sms",
    template_id: str = "reminder-soft",
    pack: str = "cn",
    variables: dict[str, str] | None = None,
    request_id: uuid.UUID | None = None,
) -> ContactRequested:
    return ContactRequested(
        request_id=request_id or uuid.uuid4(),
        case_id=uuid.uuid4(),
        loan_id=loan_id,
        borrower_id=borrower_id,
        channel=channel,  # type: ignore[arg-type]
        template_id=template_id,
        variables=variables if variables is not None else {"name": "张三", "amount_due": "1066.19"},
        pack=pack,
        pack_version=1,
    )


#: An SMS reminder in both languages (what most tests send).
SMS_REMINDER: dict[str, Any] = {
    "channel": "sms",
    "purpose": "reminder",
    "variables": ["name", "amount_due"],
    "locales": {
        "zh-CN": {"body": "{{ name }}，您本期应还{{ amount_due }}元。"},
        "en": {"body": "{{ name }}, {{ amount_due }} is due."},
    },
}


async def borrower_known(client: httpx.AsyncClient, borrower_id: str = "B-0001") -> None:
    """Wait until notify has applied the borrower's loan.registered."""

    async def known() -> bool:
        return (await client.get(f"/api/v1/notify/recipients/{borrower_id}")).status_code == 200

    await eventually(known)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def notify_settings(database_url: str, nats_server: NatsUnderTest) -> NotifySettings:
    return NotifySettings(
        principal_secret=SecretStr(PRINCIPAL_SECRET),
        database_url=database_url,
        nats_url=nats_server.url,
        outbox_poll_interval_s=0.2,
        send_poll_interval_s=0.05,
        provider_timeout_s=2.0,
        provider_backoff_base_s=0.01,
        provider_backoff_max_s=0.05,
    )


def with_changes(settings: NotifySettings, **changes: Any) -> NotifySettings:
    """The same settings with ``changes`` (validated, as the environment's would be)."""
    return NotifySettings.model_validate({**settings.model_dump(), **changes})


@pytest.fixture
async def notify(notify_settings: NotifySettings, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(notify_settings, clock=clock), auth=signed()) as client:
        yield client


@pytest.fixture
def events(nats_server: NatsUnderTest) -> Events:
    return Events(nats_server.url)


@pytest.fixture
async def notify_db(
    notify_settings: NotifySettings, notify: httpx.AsyncClient
) -> AsyncIterator[Database]:
    """The service's database, once the app has migrated it."""
    del notify
    db = Database(notify_settings.database_url)
    try:
        yield db
    finally:
        await db.dispose()
