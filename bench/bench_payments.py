"""Payment ingestion through the gateway into the ledger, on the embedded stack.

Starts PostgreSQL and NATS from their wheels, the four services and the gateway as processes
(``platform()`` of ``bench_registrations.py``), registers ``--loans`` loans through the gateway
and waits until every service has them, then posts payments from ``--clients`` concurrent
clients for ``--seconds``: a small amount on a random loan, each with its own payment id. It
measures the 201s per second, the client-side latency, the errors by status, the time from
the send to the ``monitoring.payment.applied`` event on JetStream, and each process's CPU.

In the same run it measures a bare chain for the same load: one uvicorn process with a FastAPI
endpoint doing one payment INSERT + one outbox INSERT in a transaction, a relay publishing the
outbox to JetStream (woken by NOTIFY, as the platform's), and a pull consumer inserting each
event into a table of the same PostgreSQL, all in that one process.

    uv run python bench/bench_payments.py --loans 2000 --seconds 20 --clients 16
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import httpx
import nats
import psutil
from fastapi import FastAPI
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from pydantic import BaseModel

# Run as a script (also by ``python -m bench``) Python puts bench/ on the path, not its parent.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.bench_registrations import (
    APPS,
    PASSWORD,
    arrivals,
    percentile,
    platform,
    registration,
)
from devstack.embedded import EmbeddedNats, EmbeddedPostgres
from postloan_testing.measure import CpuMeter
from postloan_testing.processes import ServiceProcess
from shared.db import asyncpg_dsn, create_database

TARGET_RATE = 1000.0
TARGET_P99_MS = 100.0
TARGET_RATIO = 0.6
APPLIED = "postloan.monitoring.payment.applied"
BARE_SUBJECT = "bare.payment"
CST = timezone(timedelta(hours=8))
# All on the loans' disbursement day (the business date after registration), a millisecond
# apart, so that each new payment is usually the latest of its loan, as in real traffic.
PAID_FROM = datetime(2026, 1, 15, 9, 0, tzinfo=CST)


def payment(n: int, loan_id: str) -> dict[str, str]:
    paid_at = PAID_FROM + timedelta(milliseconds=n)
    return {
        "payment_id": f"P-{n}",
        "loan_id": loan_id,
        "amount": "1.00",  # small: no loan settles, whatever the number of payments
        "currency": "CNY",
        "paid_at": paid_at.isoformat(),
        "channel": "bank_transfer",
    }


# --- load ------------------------------------------------------------------------------------


@dataclass
class Run:
    """What the clients saw: send times of the 201s, latencies, failures by status."""

    sent: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.sent) / self.wall


async def login(client: httpx.AsyncClient) -> dict[str, str]:
    form = {"username": "admin", "password": PASSWORD}
    token = (await client.post("/api/v1/auth/token", data=form)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def register(
    client: httpx.AsyncClient, headers: dict[str, str], n: int, clients: int
) -> list[str]:
    loan_ids = [f"L-{i:06d}" for i in range(n)]
    queue = iter(loan_ids)  # shared by the workers: each takes the next loan

    async def worker() -> None:
        for loan_id in queue:
            r = await client.post("/api/v1/loans", json=registration(loan_id), headers=headers)
            if r.status_code != 201:
                raise RuntimeError(f"registration {r.status_code}: {r.text}")

    await asyncio.gather(*(worker() for _ in range(clients)))
    return loan_ids


async def drive(
    base_url: str, path: str, headers: dict[str, str], loan_ids: list[str], args: argparse.Namespace
) -> Run:
    """Post payments on random loans from ``args.clients`` workers for ``args.seconds``.

    With aiohttp, not httpx: httpx costs the client ~3.4 ms of CPU per request, which on two
    cores takes from the servers what the figures are about (bench_gateway.py has the same).
    """
    run, counter = Run(), iter(range(sys.maxsize))
    deadline = time.monotonic() + args.seconds
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(base_url, headers=headers, timeout=timeout) as session:

        async def worker() -> None:
            while time.monotonic() < deadline:
                await post_one(session, path, payment(next(counter), random.choice(loan_ids)), run)

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(args.clients)))
        run.wall = time.monotonic() - started
    return run


async def post_one(
    session: aiohttp.ClientSession, path: str, body: dict[str, str], run: Run
) -> None:
    sent, started = time.time(), time.perf_counter()
    try:
        async with session.post(path, json=body) as r:
            await r.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        run.errors[type(exc).__name__] += 1
        return
    run.latencies.append(time.perf_counter() - started)
    if r.status == 201:
        run.sent[body["payment_id"]] = sent
    else:
        run.errors[str(r.status)] += 1


# --- end to end: when each payment's event is on JetStream -------------------------------


@asynccontextmanager
async def watch(nats_url: str, subject: str) -> AsyncIterator[dict[str, float]]:
    """Arrival times (epoch seconds) of the events on ``subject``, by payment id.

    A core subscription sees a message once JetStream has stored it (the publisher's ack
    follows), which is as early as any consumer could have it.
    """
    seen: dict[str, float] = {}

    async def on_message(msg: Msg) -> None:
        body = json.loads(msg.data)
        seen.setdefault(body.get("data", body)["payment_id"], time.time())

    nc = await nats.connect(nats_url)
    await nc.subscribe(subject, cb=on_message, pending_msgs_limit=1_000_000)
    try:
        yield seen
    finally:
        await nc.close()


async def wait_for(done: Callable[[], Awaitable[bool]], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not await done():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.2)


def delays(sent: dict[str, float], landed: dict[str, float]) -> list[float]:
    return [landed[pid] - t for pid, t in sent.items() if pid in landed]


# --- CPU per process -------------------------------------------------------------------------


def our_processes(
    apps: dict[str, str], pg: EmbeddedPostgres, server: EmbeddedNats
) -> dict[str, int]:
    """The pids of the uvicorn children running ``apps``, PostgreSQL and NATS."""
    pids = {
        "postgres": pg.proc.pid if pg.proc else 0,
        "nats": server.proc.pid if server.proc else 0,
    }
    for child in psutil.Process().children():
        line = " ".join(child.cmdline())
        pids |= {name: child.pid for name, app in apps.items() if app in line}
    return {name: pid for name, pid in pids.items() if pid}


def report_cpu(cpu: CpuMeter, payments: int) -> None:
    load = ", ".join(f"{x:.2f}" for x in cpu.load)
    print(f"  CPU during the load ({cpu.wall:.1f} s wall, 2 cores = 200%; load avg {load}):")
    for name, seconds in sorted(cpu.spent.items(), key=lambda kv: -kv[1]):
        per = seconds / max(payments, 1) * 1000
        print(f"    {name:<14} {seconds / cpu.wall:5.0%}  {per:6.2f} ms per payment")


# --- the platform ----------------------------------------------------------------------------


async def platform_run(
    args: argparse.Namespace, gateway: str, pg: EmbeddedPostgres, server: EmbeddedNats
) -> tuple[Run, list[float], CpuMeter]:
    limits = httpx.Limits(max_connections=args.clients + 4)
    async with httpx.AsyncClient(base_url=gateway, timeout=30, limits=limits) as client:
        headers = await login(client)
        started = time.monotonic()
        loan_ids = await register(client, headers, args.loans, args.clients)
        # All four services, not only monitoring: their fan-out would otherwise compete
        # with the payments for the two cores.
        await arrivals(pg, args.loans)
        print(f"{args.loans} loans registered and everywhere in {time.monotonic() - started:.1f}s")
        names = APPS | {"gateway": "gateway.main:create_app"}
        cpu = CpuMeter(our_processes(names, pg, server), own="bench clients")
        async with watch(server.url, APPLIED) as seen:
            cpu.start()
            run = await drive(gateway, "/api/v1/payments", headers, loan_ids, args)
            cpu.stop()

            async def all_seen() -> bool:
                return all(pid in seen for pid in run.sent)

            await wait_for(all_seen, "payment.applied events")
    return run, delays(run.sent, seen), cpu


# --- the bare chain --------------------------------------------------------------------------


BARE_SCHEMA = """
CREATE TABLE IF NOT EXISTS payment (
    payment_id text PRIMARY KEY, loan_id text NOT NULL, amount numeric NOT NULL,
    currency text NOT NULL, paid_at timestamptz NOT NULL, channel text NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (id bigserial PRIMARY KEY, subject text, body bytea);
CREATE TABLE IF NOT EXISTS received (
    payment_id text PRIMARY KEY, received_at timestamptz NOT NULL DEFAULT clock_timestamp());
"""
INSERT_PAYMENT = "INSERT INTO payment VALUES ($1, $2, $3, $4, $5, $6)"
FETCH_OUTBOX = "SELECT id, subject, body FROM outbox ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED"


class BarePayment(BaseModel):
    payment_id: str
    loan_id: str
    amount: Decimal
    currency: str
    paid_at: datetime
    channel: str


async def publish_outbox(pool: asyncpg.Pool, js: JetStreamContext) -> int:
    """Publish one batch of the outbox and delete it, as the platform's relay does."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(FETCH_OUTBOX)
        acks = [
            await js.publish_async(r["subject"], r["body"], headers={"Nats-Msg-Id": str(r["id"])})
            for r in rows
        ]
        await asyncio.gather(*acks)
        await conn.execute(
            "DELETE FROM outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows]
        )
    return len(rows)


async def relay(pool: asyncpg.Pool, js: JetStreamContext, wake: asyncio.Event) -> None:
    while True:
        try:
            await asyncio.wait_for(wake.wait(), 1.0)
        except TimeoutError:
            pass
        wake.clear()
        while await publish_outbox(pool, js):
            pass


async def consume(pool: asyncpg.Pool, js: JetStreamContext) -> None:
    """Insert each event's payment id; a batch per transaction, acked after commit."""
    sub = await js.pull_subscribe(BARE_SUBJECT, durable="bare")
    while True:
        try:
            msgs = await sub.fetch(200, timeout=1)
        except TimeoutError:  # nats-py's own TimeoutError or, past the deadline, the bare one
            continue
        rows = [(json.loads(m.data)["payment_id"],) for m in msgs]
        async with pool.acquire() as conn, conn.transaction():
            sql = "INSERT INTO received (payment_id) VALUES ($1) ON CONFLICT DO NOTHING"
            await conn.executemany(sql, rows)
        await asyncio.gather(*(m.ack() for m in msgs))


def bare_app() -> FastAPI:
    """The bare chain in one process (``uvicorn --factory bench_payments:bare_app``)."""
    dsn, nats_url = os.environ["BARE_DSN"], os.environ["POSTLOAN_NATS_URL"]
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool = state["pool"] = await asyncpg.create_pool(dsn, min_size=4, max_size=20)
        await pool.execute(BARE_SCHEMA)
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        await js.add_stream(name="BARE", subjects=["bare.>"])
        wake, listener = asyncio.Event(), await asyncpg.connect(dsn)
        await listener.add_listener("bare_outbox", lambda *_: wake.set())
        tasks = [asyncio.create_task(relay(pool, js, wake)), asyncio.create_task(consume(pool, js))]
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await listener.close()
        await nc.close()
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/payments", status_code=201)
    async def post_payment(p: BarePayment) -> dict[str, str]:
        async with state["pool"].acquire() as conn, conn.transaction():
            fields = (p.payment_id, p.loan_id, p.amount, p.currency, p.paid_at, p.channel)
            await conn.execute(INSERT_PAYMENT, *fields)
            body = p.model_dump_json().encode()
            await conn.execute(
                "INSERT INTO outbox (subject, body) VALUES ($1, $2)", BARE_SUBJECT, body
            )
            await conn.execute("NOTIFY bare_outbox")
        return {"payment_id": p.payment_id, "status": "applied"}

    return app


async def received_at(dsn: str) -> dict[str, float]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT payment_id, received_at FROM received")
    finally:
        await conn.close()
    return {r[0]: r[1].timestamp() for r in rows}


async def bare_run(
    args: argparse.Namespace, work: Path, pg: EmbeddedPostgres, server: EmbeddedNats
) -> tuple[Run, list[float], list[float], CpuMeter]:
    """The same load on the bare chain; delays to JetStream and to the consumer's table."""
    await create_database(pg.url, "bench_bare")
    dsn = asyncpg_dsn(pg.url_for("bench_bare"))
    env = {
        "BARE_DSN": dsn,
        "POSTLOAN_NATS_URL": server.url,
        "PYTHONPATH": str(Path(__file__).parent),
    }
    app = "bench_payments:bare_app"
    proc = ServiceProcess(app, env=env, log_file=work / "bare.log").start(timeout=60)
    try:
        cpu = CpuMeter(our_processes({"bare chain": app}, pg, server), own="bench clients")
        loan_ids = [f"L-{i:06d}" for i in range(args.loans)]
        async with watch(server.url, BARE_SUBJECT) as seen:
            cpu.start()
            run = await drive(proc.url, "/payments", {}, loan_ids, args)
            cpu.stop()

            async def all_received() -> bool:
                return len(await received_at(dsn)) >= len(run.sent)

            await wait_for(all_received, "bare consumer")
        landed = await received_at(dsn)
    finally:
        proc.stop()
    return run, delays(run.sent, seen), delays(run.sent, landed), cpu


# --- report ----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:7.1f} ms" if values else "    n/a"


def spread(values: list[float]) -> str:
    return f"p50 {ms(values, 50)}  p95 {ms(values, 95)}  p99 {ms(values, 99)}"


def show_run(title: str, run: Run, to_js: list[float]) -> None:
    print(f"{title}: {len(run.sent)} payments (201) in {run.wall:.1f}s = {run.rate:.0f} /s")
    print(f"  client latency        {spread(run.latencies)}")
    print(f"  send to JetStream     {spread(to_js)}")
    print(f"  errors {dict(run.errors) or 'none'}")


def show_targets(run: Run, bare: Run) -> None:
    p99 = percentile(run.latencies, 99) * 1000
    ratio = run.rate / bare.rate
    rows = [
        ("throughput", f"{run.rate:.0f} /s", f">= {TARGET_RATE:.0f} /s", run.rate >= TARGET_RATE),
        ("p99 latency", f"{p99:.1f} ms", f"<= {TARGET_P99_MS:.0f} ms", p99 <= TARGET_P99_MS),
        ("vs bare chain", f"{ratio:.2f}", f">= {TARGET_RATIO:.2f}", ratio >= TARGET_RATIO),
    ]
    print("targets:")
    for name, value, target, ok in rows:
        print(f"  {name:<14} {value:>10}  target {target:<10} {verdict(ok)}")


# --- main ------------------------------------------------------------------------------------


async def measure(args: argparse.Namespace, work: Path) -> None:
    pg = EmbeddedPostgres(work / "pg").start()
    server = EmbeddedNats(work / "nats").start()
    try:
        for name in [*APPS, "gateway"]:
            await create_database(pg.url, name)
        with platform(work, pg, server.url) as gateway:
            print(f"platform up; {args.loans} loans, then payments for {args.seconds:.0f}s")
            run, to_js, cpu = await platform_run(args, gateway, pg, server)
        bare, bare_js, bare_db, bare_cpu = await bare_run(args, work, pg, server)
    finally:
        server.stop()
        pg.stop()
    show_run(f"platform, {args.clients} clients through the gateway", run, to_js)
    report_cpu(cpu, len(run.sent))
    show_run(f"bare chain, {args.clients} clients", bare, bare_js)
    print(f"  send to consumer's PG {spread(bare_db)}")
    report_cpu(bare_cpu, len(bare.sent))
    show_targets(run, bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="postloan-bench-") as tmp:
        os.environ.setdefault("POSTLOAN_ENVIRONMENT", "development")
        asyncio.run(measure(args, Path(tmp)))


if __name__ == "__main__":
    main()
