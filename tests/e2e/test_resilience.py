"""Nothing accepted is lost and nothing is applied twice when a part of the platform dies.

1,000 registrations are published by "another system" while a service process is SIGKILLed,
while NATS is SIGKILLed, and while PostgreSQL restarts. Every service must end with exactly
1,000 loans and an empty outbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import nats
import pytest
from nats.errors import ConnectionClosedError, NoServersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import NoStreamResponseError

from devstack.embedded import EmbeddedNats, EmbeddedPostgres
from factories import make_registration
from postloan_testing.plugin import NatsUnderTest, PostgresUnderTest, eventually
from postloan_testing.processes import ServiceProcess
from shared.db import asyncpg_dsn, create_database
from shared.events import LoanRegistered, make_event

from .test_loan_reaches_every_service import COUNT_SQL

pytestmark = pytest.mark.slow

N = 1000
APPS = {
    "monitoring": "monitoring.main:create_app",
    "scoring": "scoring.main:create_app",
    "collections": "collections_service.main:create_app",
    "notify": "notify.main:create_app",
}


async def publish_registrations(
    nats_url: str, *, on_progress: Callable[[int], Awaitable[None]]
) -> None:
    """Publish N registrations like a lender system would: retry each until acknowledged."""
    nc = await nats.connect(nats_url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    js = nc.jetstream(timeout=2)
    try:
        for i in range(N):
            payload = LoanRegistered.model_validate(make_registration(loan_id=f"L-{i:04d}"))
            event = make_event(payload, source="test/lender", subject=payload.loan_id)
            body, headers = event.model_dump_json().encode(), {"Nats-Msg-Id": str(event.id)}
            while True:
                try:
                    await js.publish(event.spec.subject, body, headers=headers)
                    break
                except (NatsTimeout, NoStreamResponseError, ConnectionClosedError, NoServersError):
                    await asyncio.sleep(0.2)
            await on_progress(i)
    finally:
        await nc.close()


async def db_state(url: str, service: str) -> tuple[int, int]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        loans = int(await conn.fetchval(COUNT_SQL[service]))
        outbox = int(await conn.fetchval("SELECT count(*) FROM outbox"))
        return loans, outbox
    finally:
        await conn.close()


@contextmanager
def services(
    pg_url_for: Callable[[str], str], nats_url: str, logs: Path
) -> Iterator[dict[str, ServiceProcess]]:
    procs = {
        name: ServiceProcess(
            app,
            env={
                "POSTLOAN_DATABASE_URL": pg_url_for(name),
                "POSTLOAN_NATS_URL": nats_url,
                "POSTLOAN_OUTBOX_POLL_INTERVAL_S": "0.2",
                "POSTLOAN_SERVICE_NAME": name,
            },
            log_file=logs / f"{name}.log",
        )
        for name, app in APPS.items()
    }
    try:
        for proc in procs.values():
            proc.start()
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


async def databases(server_url: str, tag: str) -> dict[str, str]:
    from sqlalchemy.engine import make_url

    names = {service: f"{tag}_{service}" for service in APPS}
    for name in names.values():
        await create_database(server_url, name)
    base = make_url(server_url)
    return {s: base.set(database=n).render_as_string(hide_password=False) for s, n in names.items()}


async def all_applied_exactly_once(urls: dict[str, str]) -> None:
    async def done() -> bool:
        states = [await db_state(urls[s], s) for s in APPS]
        return all(loans == N and outbox == 0 for loans, outbox in states)

    try:
        await eventually(done, timeout=90, interval=0.5)
    finally:
        states = {s: await db_state(urls[s], s) for s in APPS}
    assert states == dict.fromkeys(APPS, (N, 0)), states


async def test_killing_service_processes_loses_and_duplicates_nothing(
    postgres: PostgresUnderTest, nats_server: NatsUnderTest, tmp_path: Path
) -> None:
    urls = await databases(postgres.server_url, "kill9")
    with services(urls.__getitem__, nats_server.url, tmp_path) as procs:

        async def crash_consumers(i: int) -> None:
            if i in (250, 600):
                victim = procs["monitoring" if i == 250 else "scoring"]
                victim.kill()
                await asyncio.to_thread(victim.start)

        await publish_registrations(nats_server.url, on_progress=crash_consumers)
        await all_applied_exactly_once(urls)


async def test_killing_nats_loses_and_duplicates_nothing(
    postgres: PostgresUnderTest, isolated_nats: EmbeddedNats, tmp_path: Path
) -> None:
    urls = await databases(postgres.server_url, "natskill")
    with services(urls.__getitem__, isolated_nats.url, tmp_path):

        async def crash_nats(i: int) -> None:
            if i == 300:
                isolated_nats.kill()
                await asyncio.sleep(1.0)
                await asyncio.to_thread(isolated_nats.start)

        await publish_registrations(isolated_nats.url, on_progress=crash_nats)
        await all_applied_exactly_once(urls)


async def test_restarting_postgres_loses_and_duplicates_nothing(
    isolated_postgres: EmbeddedPostgres, nats_server: NatsUnderTest, tmp_path: Path
) -> None:
    urls = await databases(isolated_postgres.url, "pgrestart")
    with services(urls.__getitem__, nats_server.url, tmp_path):

        async def restart_postgres(i: int) -> None:
            if i == 300:
                await asyncio.to_thread(isolated_postgres.stop)
                await asyncio.sleep(1.0)
                await asyncio.to_thread(isolated_postgres.start)

        await publish_registrations(nats_server.url, on_progress=restart_postgres)
        await all_applied_exactly_once(urls)
