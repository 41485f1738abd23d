"""Helpers of the tests of notices that gate a step: a case, notify's word that a request was
sent, and waiting for what collections writes on the case's timeline."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

import asyncpg
import httpx

from postloan_testing.plugin import eventually
from scoring_events import Monitoring
from shared.db import asyncpg_dsn
from shared.events import Channel, DeliveryUpdated, make_event

from .test_cases import cases, eod
from .test_contacts import open_case


async def a_case(client: httpx.AsyncClient, monitoring: Monitoring) -> str:
    """An open case of loan L-1 (pack cn), opened on 2026-02-16, its first step decided."""
    await open_case(client, monitoring)
    [case] = await cases(client)
    return str(case["case_id"])


async def timeline(client: httpx.AsyncClient, case_id: str) -> list[dict[str, Any]]:
    answer = await client.get(f"/api/v1/cases/{case_id}")
    assert answer.status_code == 200, answer.text
    lines: list[dict[str, Any]] = answer.json()["timeline"]
    return lines


async def notify_says(
    client: httpx.AsyncClient, monitoring: Monitoring, case_id: str, request_id: str,
    status: Literal["queued", "sent", "delivered"] = "sent", channel: Channel = Channel.LETTER,
) -> None:  # fmt: skip
    """notify reports the request ``status``; returns once it is on the case's timeline."""
    update = DeliveryUpdated(message_id=uuid.uuid4(), request_id=uuid.UUID(request_id),
                             borrower_id="B-1", channel=channel, status=status)  # fmt: skip
    await monitoring.publish_event(make_event(update, source="postloan/notify", domain="notify"))

    async def seen() -> bool:
        return any(
            t["kind"] == "delivery" and t["detail"]["request_id"] == request_id
            and t["detail"]["status"] == status
            for t in await timeline(client, case_id)
        )  # fmt: skip

    await eventually(seen)


async def business_day(monitoring: Monitoring, database_url: str, day: str) -> None:
    """Monitoring's end of day begins ``day``; returns once collections has applied it."""
    await monitoring.publish(eod(day))

    async def applied() -> bool:
        conn = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            found = await conn.fetchval("SELECT business_date FROM business_day")
        finally:
            await conn.close()
        return bool(found == date.fromisoformat(day))

    await eventually(applied)
