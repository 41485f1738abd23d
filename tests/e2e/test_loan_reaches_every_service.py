import asyncio
import uuid

import asyncpg
import nats

from factories import make_registration
from postloan_testing.plugin import eventually
from shared.db import asyncpg_dsn
from shared.events import LoanRegistered, make_event

from .conftest import SERVICES, Platform

COUNT_SQL = {
    "monitoring": "SELECT count(*) FROM loan",
    "scoring": "SELECT count(*) FROM loan_terms",
    "collections": "SELECT count(*) FROM loan_ref",
    "notify": "SELECT count(*) FROM loan_recipient",
}


async def count_loans(platform: Platform, service: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(platform.database_urls[service]))
    try:
        return int(await conn.fetchval(COUNT_SQL[service]))
    finally:
        await conn.close()


async def test_a_loan_posted_to_monitoring_is_readable_from_every_service(
    platform: Platform,
) -> None:
    response = await platform.clients["monitoring"].post(
        "/api/v1/loans", json=make_registration(loan_id="L-E2E")
    )
    assert response.status_code == 201

    for service in SERVICES:

        async def has_it(service: str = service) -> bool:
            return await platform.has_loan(service, "L-E2E")

        await eventually(has_it, timeout=2.0)
    recipient = (
        await platform.clients["notify"].get("/api/v1/notify/loans/L-E2E/recipient")
    ).json()
    assert recipient["time_zone"] == "Asia/Shanghai"
    assert recipient["channels"] == ["sms", "voice", "email", "letter"]


async def test_a_registration_published_three_times_is_applied_once_everywhere(
    platform: Platform,
) -> None:
    event = make_event(
        LoanRegistered.model_validate(make_registration(loan_id="L-THRICE")),
        source="test/lender",
        subject="L-THRICE",
        event_id=uuid.uuid4(),
    )
    nc = await nats.connect(platform.nats_url)
    js = nc.jetstream()
    try:
        for _ in range(3):
            # Also defeat JetStream's own de-duplication once, to exercise the inbox.
            msg_id = str(event.id) if _ < 2 else f"{event.id}-again"
            await js.publish(
                event.spec.subject,
                event.model_dump_json().encode(),
                headers={"Nats-Msg-Id": msg_id},
            )
    finally:
        await nc.close()

    for service in SERVICES:

        async def has_it(service: str = service) -> bool:
            return await platform.has_loan(service, "L-THRICE")

        await eventually(has_it, timeout=5.0)
    await asyncio.sleep(0.5)  # give any duplicate the time to (wrongly) land
    assert [await count_loans(platform, s) for s in SERVICES] == [1, 1, 1, 1]
