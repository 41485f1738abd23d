"""Exactly once across a crash: the notify process is SIGKILLed after the provider received a
message and before notify recorded it, then started again; a counting HTTP provider receives
the message once (the repeat carries the same Idempotency-Key), and notify keeps one message,
``sent``. Real processes, PostgreSQL, NATS and HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from providers import CountingProvider, http_provider

from postloan_testing.plugin import NatsUnderTest, eventually
from postloan_testing.processes import ServiceProcess
from principals import PRINCIPAL_SECRET, signed

from .conftest import SMS_REMINDER, Events, make_contact_request, make_loan

pytestmark = pytest.mark.slow


def afternoon_zone(now: datetime) -> str:
    """A zone where it is 14:xx now, so that the process's own wall clock (a real process has
    no injected one) is inside every pack's contact hours whatever the time of the run."""
    offset = 14 - now.astimezone(UTC).hour  # -9 ... +14
    return f"Etc/GMT{-offset:+d}"  # the Etc zones' signs are POSIX's: inverted


def test_the_afternoon_zone_is_at_14_hours() -> None:
    for hour in range(24):
        now = datetime(2026, 2, 16, hour, 30, tzinfo=UTC)
        assert now.astimezone(ZoneInfo(afternoon_zone(now))).hour == 14


async def test_a_crash_between_hand_over_and_record_delivers_the_message_once(
    database_url: str, nats_server: NatsUnderTest, tmp_path: Path
) -> None:
    provider = CountingProvider(["slow"], slow_s=3.0)
    events = Events(nats_server.url)
    async with http_provider(provider) as url:
        env = {
            "POSTLOAN_DATABASE_URL": database_url,
            "POSTLOAN_NATS_URL": nats_server.url,
            "POSTLOAN_SMS_PROVIDER_URL": url,
            "POSTLOAN_PROVIDER_TIMEOUT_S": "2",
            "POSTLOAN_PROVIDER_MAX_TRIES": "1",
            "POSTLOAN_PROVIDER_BACKOFF_BASE_S": "0.01",
            "POSTLOAN_PROVIDER_BACKOFF_MAX_S": "0.05",
            "POSTLOAN_SEND_LEASE_S": "3",
            "POSTLOAN_SEND_POLL_INTERVAL_S": "0.05",
            "POSTLOAN_OUTBOX_POLL_INTERVAL_S": "0.2",
            "POSTLOAN_PRINCIPAL_SECRET": PRINCIPAL_SECRET,
        }
        notify = ServiceProcess("notify.main:create_app", env, tmp_path / "notify.log")
        await asyncio.to_thread(notify.start)
        try:
            async with httpx.AsyncClient(base_url=notify.url, auth=signed()) as client:
                zone = afternoon_zone(datetime.now(UTC))
                await events.publish(make_loan(time_zone=zone), domain="monitoring")
                await _known(client)
                stored = await client.put("/api/v1/templates/reminder-soft", json=SMS_REMINDER)
                assert stored.status_code == 201, stored.text
                requested = make_contact_request()
                await events.publish(requested, domain="collections")

                async def handed_over() -> bool:
                    return len(provider.calls) == 1

                await eventually(handed_over)
                notify.kill()  # the provider has it; notify never heard its answer
                await asyncio.to_thread(notify.start)
                message = await _settled(client)
        finally:
            notify.stop()

    assert message["status"] == "sent", message
    assert [h["status"] for h in message["history"]] == ["queued", "sending", "sent"]
    assert [c["key"] for c in provider.calls] == [message["message_id"]] * 2
    assert list(provider.received) == [message["message_id"]]


async def _known(client: httpx.AsyncClient) -> None:
    async def known() -> bool:
        return (await client.get("/api/v1/notify/recipients/B-0001")).status_code == 200

    await eventually(known)


async def _settled(client: httpx.AsyncClient) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def sent() -> bool:
        items = (await client.get("/api/v1/messages")).json()["items"]
        if len(items) == 1 and items[0]["status"] in {"sent", "failed"}:
            found.update((await client.get(f"/api/v1/messages/{items[0]['message_id']}")).json())
            return True
        return False

    await eventually(sent, timeout=30)
    return found
