"""The three writers of events (make_event, the import's COPY, end of day's SQL) give the same
envelope: the same keys in the same order and the same formats, byte for byte."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from factories import make_registration
from monitoring.settings import MonitoringSettings
from postloan_testing.plugin import NatsUnderTest
from principals import PRINCIPAL_SECRET
from shared import envelope
from shared.db import Database
from shared.events import CloudEvent, make_event

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
INCOMING = {"traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-01"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")


@pytest.fixture
def monitoring_settings(database_url: str, nats_server: NatsUnderTest) -> MonitoringSettings:
    """No relay: the events stay in the outbox, as their producers wrote them."""
    return MonitoringSettings(
        principal_secret=SecretStr(PRINCIPAL_SECRET),
        database_url=database_url,
        nats_url=nats_server.url,
        relay_enabled=False,
    )


@pytest.fixture
async def db(monitoring_settings: MonitoringSettings) -> AsyncIterator[Database]:
    database = Database(monitoring_settings.database_url, pool_size=1)
    yield database
    await database.dispose()


async def close_day(client: httpx.AsyncClient, as_of: str) -> None:
    run = (await client.post("/api/v1/eod", json={"as_of": as_of}, headers=INCOMING)).json()
    while run["status"] == "running":
        await asyncio.sleep(0.01)
        run = (await client.get(f"/api/v1/eod/{run['run_id']}")).json()
    assert run["status"] == "completed", run


async def outbox_rows(db: Database) -> list[tuple[bytes, dict[str, str]]]:
    async with db.unit_of_work() as s:
        rows = await s.execute(sa.text("SELECT body, headers FROM outbox ORDER BY id"))
        return [(bytes(body), headers) for body, headers in rows]


def rebuilt(event: CloudEvent) -> bytes:
    """The body ``make_event`` writes for the same event."""
    spec = event.spec
    return (
        make_event(
            event.payload(),
            source=event.source,
            subject=event.subject,
            domain=spec.domain,
            traceparent=event.traceparent,
            event_id=event.id,
            time=event.time,
        )
        .model_dump_json()
        .encode()
    )


async def produced(client: httpx.AsyncClient, db: Database) -> dict[str, list[tuple[bytes, Any]]]:
    """Events of each producer: a registration over HTTP, an import, and end of day."""
    posted = make_registration(loan_id="L-API", borrower_id="B-API", first_due_on="2026-01-16")
    assert (await client.post("/api/v1/loans", json=posted, headers=INCOMING)).status_code == 201
    imported = make_registration(
        loan_id="L-COPY",
        borrower_id="B-COPY",
        first_due_on="2026-01-16",
        payments=[
            {
                "payment_id": "P-1",
                "amount": "100.00",
                "paid_at": "2026-01-15T10:00:00+08:00",
                "channel": "bank_transfer",
            }
        ],
    )
    files = {"loans": ("loans.ndjson", orjson.dumps(imported) + b"\n")}
    response = await client.post("/api/v1/imports", files=files, headers=INCOMING)
    assert response.status_code == 201, response.text
    before = len(await outbox_rows(db))
    for day in ("2026-01-15", "2026-01-16", "2026-01-17"):
        await close_day(client, day)
    rows = await outbox_rows(db)
    by_producer: dict[str, list[tuple[bytes, Any]]] = {"make_event": [], "copy": [], "sql": []}
    for n, row in enumerate(rows):
        event = orjson.loads(row[0])
        if event["type"] == "postloan.monitoring.delinquency.changed.v1":
            by_producer["sql"].append(row)
        elif n < before and event["subject"] == "L-COPY":
            by_producer["copy"].append(row)
        else:  # the registration, and the alerts end of day raises through make_event
            by_producer["make_event"].append(row)
    return by_producer


async def test_every_producer_writes_the_envelope_keys_in_order_and_formats(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    by_producer = await produced(monitoring, db)

    types = {name: [orjson.loads(b)["type"] for b, _ in rows] for name, rows in by_producer.items()}
    assert types["make_event"][0] == "postloan.monitoring.loan.registered.v1"
    assert types["copy"] == [
        "postloan.monitoring.loan.registered.v1",
        "postloan.monitoring.payment.applied.v1",
    ]
    assert types["sql"] == ["postloan.monitoring.delinquency.changed.v1"] * 2
    for name, rows in by_producer.items():
        for body, headers in rows:
            event = CloudEvent.model_validate_json(body)
            assert tuple(json.loads(body)) == envelope.KEYS, name
            assert UUID.match(str(json.loads(body)["id"])), name
            assert UTC_TIME.match(json.loads(body)["time"]), name
            assert event.source == "postloan/monitoring", name
            assert event.traceparent is not None, name
            assert event.traceparent.split("-")[1] == TRACE_ID, name  # the caller's trace
            assert headers == {"traceparent": event.traceparent}, name


async def test_every_producer_writes_the_bytes_make_event_writes_for_the_same_event(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    by_producer = await produced(monitoring, db)

    for name, rows in by_producer.items():
        for body, _ in rows:
            assert body == rebuilt(CloudEvent.model_validate_json(body)), name
