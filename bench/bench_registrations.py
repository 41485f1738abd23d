"""Loan registrations through the gateway into every service's database, on the embedded stack.

Starts PostgreSQL and NATS from their wheels, the four services and the gateway as processes,
then posts registrations through the gateway from concurrent clients for ``--seconds``. A loan
counts as done when it is in all four databases; its end-to-end latency is from the client's
send to its arrival in the last downstream database (``received_at``). Beside it, the same run
measures a bare JetStream publish loop and a bare asyncpg insert loop, and prints the ratios.

    uv run python bench/bench_registrations.py --seconds 30 --clients 16
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
import nats

from devstack.embedded import EmbeddedNats, EmbeddedPostgres
from postloan_testing.processes import ServiceProcess
from shared.db import asyncpg_dsn, create_database

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the bench package
from bench.signing import SECRET_ENV

APPS = {
    "monitoring": "monitoring.main:create_app",
    "scoring": "scoring.main:create_app",
    "collections": "collections_service.main:create_app",
    "notify": "notify.main:create_app",
}
ARRIVAL_SQL = {
    "monitoring": "SELECT loan_id, registered_at FROM loan",
    "scoring": "SELECT loan_id, received_at FROM loan_terms",
    "collections": "SELECT loan_id, received_at FROM loan_ref",
    "notify": "SELECT loan_id, received_at FROM loan_recipient",
}
PASSWORD = "bench-admin-password"


def registration(loan_id: str) -> dict[str, object]:
    return {
        "loan_id": loan_id,
        "borrower": {
            "borrower_id": f"B-{loan_id}",
            "name": "张三",
            "phone": "+8613800000000",
            "time_zone": "Asia/Shanghai",
        },
        "principal": "12000.00",
        "currency": "CNY",
        "annual_rate": "0.12",
        "term_months": 12,
        "repayment_method": "annuity",
        "disbursed_on": "2026-01-15",
    }


@contextmanager
def platform(work: Path, pg: EmbeddedPostgres, nats_url: str) -> Iterator[str]:
    """The four services and the gateway as processes; yields the gateway URL."""
    base = {
        "POSTLOAN_NATS_URL": nats_url,
        "POSTLOAN_LOG_LEVEL": "WARNING",
        "POSTLOAN_OUTBOX_POLL_INTERVAL_S": "1.0",
        # The gateway signs what it forwards with it, the services check it.
        **SECRET_ENV,
    }
    with ExitStack() as stack:
        urls: dict[str, str] = {}
        for name, app in [*APPS.items(), ("gateway", "gateway.main:create_app")]:
            env = base | {"POSTLOAN_DATABASE_URL": pg.url_for(name), "POSTLOAN_SERVICE_NAME": name}
            if name == "gateway":
                env |= {f"POSTLOAN_UPSTREAM_{s.upper()}": u for s, u in urls.items()}
                env |= {
                    "POSTLOAN_ADMIN_PASSWORD": PASSWORD,
                    "POSTLOAN_STATE_DIR": str(work),
                    "POSTLOAN_JWT_SECRET": "bench-" + "k" * 40,
                }
            proc = ServiceProcess(app, env=env, log_file=work / f"{name}.log").start(timeout=60)
            stack.callback(proc.stop)
            urls[name] = proc.url
        yield urls["gateway"]


async def load(gateway: str, seconds: float, clients: int) -> dict[str, float]:
    """Post registrations for ``seconds``; return each loan id's send time (epoch seconds)."""
    sent: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        form = {"username": "admin", "password": PASSWORD}
        token = (await client.post("/api/v1/auth/token", data=form)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + seconds

        async def worker(n: int) -> None:
            i = 0
            while time.monotonic() < deadline:
                loan_id = f"L-{n}-{i}"
                sent[loan_id] = time.time()
                r = await client.post("/api/v1/loans", json=registration(loan_id), headers=headers)
                if r.status_code != 201:
                    raise RuntimeError(f"{r.status_code}: {r.text}")
                i += 1

        await asyncio.gather(*(worker(n) for n in range(clients)))
    return sent


async def arrivals(pg: EmbeddedPostgres, expected: int) -> dict[str, dict[str, datetime]]:
    """Wait until every service has every loan; return arrival times per service."""
    found: dict[str, dict[str, datetime]] = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for service, sql in ARRIVAL_SQL.items():
            conn = await asyncpg.connect(asyncpg_dsn(pg.url_for(service)))
            try:
                found[service] = {r[0]: r[1] for r in await conn.fetch(sql)}
            finally:
                await conn.close()
        if all(len(rows) >= expected for rows in found.values()):
            return found
        await asyncio.sleep(0.5)
    raise TimeoutError({s: len(r) for s, r in found.items()})


async def bare_publish(nats_url: str, seconds: float) -> float:
    """JetStream async publishes per second on a stream of our own."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await js.add_stream(name="BENCH", subjects=["bench.>"])
    body, n, deadline = b"x" * 600, 0, time.monotonic() + seconds
    started = time.monotonic()
    while time.monotonic() < deadline:
        futures = [await js.publish_async("bench.x", body) for _ in range(1000)]
        await asyncio.gather(*futures)
        n += 1000
    rate = n / (time.monotonic() - started)
    await js.delete_stream("BENCH")
    await nc.close()
    return rate


async def bare_insert(pg: EmbeddedPostgres, seconds: float, clients: int) -> float:
    """Single-row INSERTs per second (one transaction each), from ``clients`` connections."""
    await create_database(pg.url, "bench_bare")
    pool = await asyncpg.create_pool(
        asyncpg_dsn(pg.url_for("bench_bare")), min_size=clients, max_size=clients
    )
    await pool.execute("CREATE TABLE t (id uuid PRIMARY KEY, body jsonb)")
    n, deadline = 0, time.monotonic() + seconds

    async def worker() -> None:
        nonlocal n
        while time.monotonic() < deadline:
            await pool.execute("INSERT INTO t VALUES ($1, '{}')", uuid.uuid4())
            n += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(clients)))
    rate = n / (time.monotonic() - started)
    await pool.close()
    return rate


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


async def measure(args: argparse.Namespace, work: Path) -> None:
    pg = EmbeddedPostgres(work / "pg").start()
    nats_server = EmbeddedNats(work / "nats").start()
    try:
        for name in [*APPS, "gateway"]:
            await create_database(pg.url, name)
        with platform(work, pg, nats_server.url) as gateway:
            print(f"platform up; loading for {args.seconds:.0f}s with {args.clients} clients")
            started = time.monotonic()
            sent = await load(gateway, args.seconds, args.clients)
            posted_in = time.monotonic() - started
            landed = await arrivals(pg, len(sent))
            everywhere_in = time.monotonic() - started
        latencies = [
            max(landed[s][loan_id].timestamp() for s in APPS) - t for loan_id, t in sent.items()
        ]
        publish_rate = await bare_publish(nats_server.url, 5)
        insert_rate = await bare_insert(pg, 5, args.clients)
    finally:
        nats_server.stop()
        pg.stop()
    accepted = len(sent) / posted_in
    complete = len(sent) / everywhere_in
    print(f"registrations: {len(sent)} in {posted_in:.1f}s")
    print(f"  accepted by the gateway       {accepted:9.0f} /s")
    print(f"  in all four databases         {complete:9.0f} /s (until the last one landed)")
    print(
        f"  end-to-end latency            p50 {percentile(latencies, 50) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.0f} ms"
    )
    print(
        f"bare JetStream async publish    {publish_rate:9.0f} msg/s  "
        f"(registrations / publish = {complete / publish_rate:.3f})"
    )
    print(
        f"bare asyncpg single-row insert  {insert_rate:9.0f} rows/s "
        f"(registrations / insert = {complete / insert_rate:.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="postloan-bench-") as tmp:
        os.environ.setdefault("POSTLOAN_ENVIRONMENT", "development")
        asyncio.run(measure(args, Path(tmp)))


if __name__ == "__main__":
    main()
