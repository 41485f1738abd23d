"""Collections' loan reference and notify's recipient views: typed use cases behind the routes
(what the consumers store from ``loan.registered``, read back through the API)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.main import create_app as create_collections
from collections_service.service_layer.loans import record_loan
from collections_service.settings import CollectionsSettings
from factories import make_registration
from notify.main import create_app as create_notify
from notify.service_layer.recipients import record_recipient
from notify.settings import NotifySettings
from postloan_testing.plugin import NatsUnderTest
from principals import PRINCIPAL_SECRET, signed
from shared.app import Runtime
from shared.events import LoanAccepted

ACCEPTED = LoanAccepted.model_validate(make_registration(loan_id="L-REF", borrower_id="B-REF"))


async def _get_after_recording(
    app: FastAPI, record: Callable[[AsyncSession, LoanAccepted], Awaitable[None]], path: str
) -> httpx.Response:
    async with app.router.lifespan_context(app):
        rt: Runtime = app.state.runtime
        async with rt.db.unit_of_work() as session:
            await record(session, ACCEPTED)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", auth=signed()
        ) as client:
            return await client.get(path)


async def test_collections_shows_the_loan_with_its_borrower(
    database_url: str, nats_server: NatsUnderTest
) -> None:
    settings = CollectionsSettings(
        database_url=database_url,
        nats_url=nats_server.url,
        consumers_enabled=False,
        principal_secret=SecretStr(PRINCIPAL_SECRET),
    )
    app = create_collections(settings)

    response = await _get_after_recording(app, record_loan, "/api/v1/collections/loans/L-REF")

    assert response.status_code == 200
    assert response.json() == {
        "loan_id": "L-REF",
        "product": "default",
        "jurisdiction": "cn",
        "principal": "12000.00",
        "currency": "CNY",
        "disbursed_on": "2026-01-15",
        "borrower": {
            "borrower_id": "B-REF",
            "name": "张三",
            "phone": "+8613800000000",
            "email": "zhang@example.com",
            "time_zone": "Asia/Shanghai",
            "locale": "zh-CN",
        },
    }


async def test_notify_shows_the_recipient_of_a_loan_and_its_channels(
    database_url: str, nats_server: NatsUnderTest
) -> None:
    settings = NotifySettings(
        database_url=database_url,
        nats_url=nats_server.url,
        consumers_enabled=False,
        principal_secret=SecretStr(PRINCIPAL_SECRET),
    )
    app = create_notify(settings)

    response = await _get_after_recording(
        app, record_recipient, "/api/v1/notify/loans/L-REF/recipient"
    )

    assert response.status_code == 200
    assert response.json() == {
        "borrower_id": "B-REF",
        "name": "张三",
        "phone": "+8613800000000",
        "email": "zhang@example.com",
        "locale": "zh-CN",
        "time_zone": "Asia/Shanghai",
        "channels": ["sms", "voice", "email", "letter"],
        "address": None,
        "contacts": [],
    }
