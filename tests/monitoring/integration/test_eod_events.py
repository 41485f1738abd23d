"""What end of day publishes reaches the bus through the outbox relay, once."""

from __future__ import annotations

import asyncio

import httpx
import nats
import pytest

from factories import make_registration
from postloan_testing.plugin import NatsUnderTest
from shared.events import CloudEvent, DelinquencyChanged


async def close_day(client: httpx.AsyncClient, as_of: str) -> None:
    run = (await client.post("/api/v1/eod", json={"as_of": as_of})).json()
    while run["status"] == "running":
        await asyncio.sleep(0.01)
        run = (await client.get(f"/api/v1/eod/{run['run_id']}")).json()
    assert run["status"] == "completed", run


async def test_a_bucket_transition_is_published_once_as_a_delinquency_changed_event(
    monitoring: httpx.AsyncClient, nats_server: NatsUnderTest
) -> None:
    body = make_registration(first_due_on="2026-01-16")
    assert (await monitoring.post("/api/v1/loans", json=body)).status_code == 201
    nc = await nats.connect(nats_server.url)
    try:
        sub = await nc.subscribe("postloan.monitoring.delinquency.changed")
        for day in ("2026-01-15", "2026-01-16", "2026-01-17", "2026-01-18"):
            await close_day(monitoring, day)
        await monitoring.post("/api/v1/eod", json={"as_of": "2026-01-16"})  # done: a no-op

        msg = await sub.next_msg(timeout=5)
        event = CloudEvent.model_validate_json(msg.data)
        assert msg.headers is not None
        assert msg.headers["Nats-Msg-Id"] == str(event.id)
        assert (event.type, event.source, event.subject) == (
            "postloan.monitoring.delinquency.changed.v1",
            "postloan/monitoring",
            "L-0001",
        )
        payload = event.payload()
        assert isinstance(payload, DelinquencyChanged)
        assert payload.model_dump(mode="json") == {
            "loan_id": "L-0001",
            "borrower_id": "B-0001",
            # The close of the due date (the 16th) moves it: 1 DPD on the 17th.
            "business_date": "2026-01-17",
            "dpd_before": 0,
            "dpd": 1,
            "bucket_before": "C",
            "bucket": "M1",
            "overdue_amount": "1066.19",  # 946.19 + 120.00; its first penalty day is the 17th
        }
        with pytest.raises(nats.errors.TimeoutError):  # M1 on the 18th and 19th: no transition
            await sub.next_msg(timeout=1)
    finally:
        await nc.close()
