"""Notify on the embedded stack: messages rendered and handed to the local sink per second
(target >= 1,000/s), and request event to provider call at a steady 300/s (target p99 <= 100 ms).

Starts PostgreSQL and NATS from their wheels and notify as a process, its SMS provider a
counting HTTP server in this process and its other channels the local sink. Publishes
``--loans`` ``monitoring.loan.registered`` (one borrower, one phone number each) and waits until
notify knows every borrower. Then:

1. throughput: ``--burst`` ``collections.contact.requested`` voice messages published at once
   (one per borrower); timed from the first publish until the sink holds every one (consumed,
   stored, rendered with lint and masking, checked at send time under pack ``cn``, marked
   ``sending``, handed over, recorded ``sent``, each status with its outbox event);
2. latency: SMS requests at ``--rate`` for ``--seconds``; latency is from just before the
   publish to the provider's receipt of the call for that borrower's number (same process,
   same clock).

Notify decides contact hours by the real wall clock, so the borrowers live in a zone where it
is the middle of the day. The send loops (``--workers``) poll every ``--poll`` seconds when
idle.

    uv run python bench/bench_notify.py [--loans 6000] [--burst 5000] [--rate 300] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from devstack.embedded import EmbeddedNats, EmbeddedPostgres
from postloan_testing.processes import ServiceProcess
from postloan_testing.servers import serving
from shared.db import asyncpg_dsn, create_database
from shared.events import ContactRequested, LoanAccepted, make_event

TESTS = Path(__file__).parents[1] / "tests"
sys.path.insert(0, str(TESTS.parent))
sys.path.insert(0, str(TESTS))
from bench.bench_collections import midday_zone  # noqa: E402
from bench.bench_scoring_events import paced, percentile, wait_until  # noqa: E402
from bench.signing import SECRET_ENV, AsAdmin  # noqa: E402
from factories import make_registration  # noqa: E402

TARGET_RATE, TARGET_P99_MS = 1000.0, 100.0
TEMPLATES: dict[str, dict[str, Any]] = {
    channel: {
        "channel": channel,
        "purpose": "reminder",
        "variables": ["name", "amount_due"],
        "locales": {
            "zh-CN": {"body": "{{ name }}，您本期应还{{ amount_due }}元，请按时还款。"},
            "en": {"body": "{{ name }}, {{ amount_due }} is due."},
        },
    }
    for channel in ("sms", "voice")
}


class Provider:
    """The SMS provider: the arrival time of the call for each number."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.app = FastAPI(routes=[Route("/sms", self._post, methods=["POST"])])

    async def _post(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.arrived.setdefault(body["to"], time.perf_counter())
        return JSONResponse({"id": body["message_id"]}, status_code=202)


def phone(i: int) -> str:
    return f"+86139{i:08d}"


def registration(i: int, zone: str) -> LoanAccepted:
    body = make_registration(loan_id=f"NL-{i:06d}", borrower_id=f"NB-{i:06d}")
    body["borrower"].update(time_zone=zone, phone=phone(i), national_id=None)
    return LoanAccepted.model_validate(body)


def request(i: int, channel: str) -> ContactRequested:
    return ContactRequested(
        request_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        loan_id=f"NL-{i:06d}",
        borrower_id=f"NB-{i:06d}",
        channel=channel,  # type: ignore[arg-type]
        template_id=f"bench-{channel}",
        variables={"name": "张三", "amount_due": "1066.19"},
        pack="cn",
        pack_version=1,
    )


async def publish(js: Any, payload: Any, domain: str) -> Any:
    event = make_event(payload, source=f"postloan/{domain}", domain=domain)
    headers = {"Nats-Msg-Id": str(event.id)}
    return await js.publish_async(
        event.spec.subject, event.model_dump_json().encode(), headers=headers
    )


async def count(dsn: str, sql: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def register(js: Any, dsn: str, loans: int, zone: str) -> None:
    acks = [await publish(js, registration(i, zone), "monitoring") for i in range(loans)]
    await asyncio.gather(*acks)

    async def known() -> bool:
        return await count(dsn, "SELECT count(*) FROM recipient") >= loans

    await wait_until(known, "every borrower known to notify", timeout=600)


async def throughput(js: Any, dsn: str, burst: int) -> float:
    started = time.perf_counter()
    acks = [await publish(js, request(i, "voice"), "collections") for i in range(burst)]
    await asyncio.gather(*acks)

    async def all_in() -> bool:
        sql = "SELECT count(*) FROM sink_message WHERE channel = 'voice'"
        return await count(dsn, sql) >= burst

    await wait_until(all_in, "every voice message in the sink", timeout=600)
    return burst / (time.perf_counter() - started)


async def latency(
    js: Any, provider: Provider, rate: float, seconds: float
) -> tuple[list[float], float, int]:
    sent: dict[str, float] = {}
    acks = []

    async def send(i: int) -> None:
        sent[phone(i)] = time.perf_counter()
        acks.append(await publish(js, request(i, "sms"), "collections"))

    achieved = await paced(rate, seconds, send)
    await asyncio.gather(*acks)
    deadline = time.monotonic() + 60
    while len(provider.arrived) < len(sent) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    latencies = [provider.arrived[n] - at for n, at in sent.items() if n in provider.arrived]
    return latencies, achieved, len(sent) - len(latencies)


def start_notify(
    work: Path, pg: EmbeddedPostgres, nats_url: str, sms_url: str, args: argparse.Namespace
) -> ServiceProcess:
    poll, workers = args.poll, args.workers
    env = {
        "POSTLOAN_DATABASE_URL": pg.url_for("notify"),
        "POSTLOAN_NATS_URL": nats_url,
        "POSTLOAN_SERVICE_NAME": "notify",
        "POSTLOAN_LOG_LEVEL": "WARNING",
        **SECRET_ENV,
        "POSTLOAN_SMS_PROVIDER_URL": sms_url,
        "POSTLOAN_SEND_POLL_INTERVAL_S": str(poll),
        "POSTLOAN_SEND_WORKERS": str(workers),
    }
    return ServiceProcess("notify.main:create_app", env=env, log_file=work / "notify.log").start(
        timeout=90
    )


async def run(args: argparse.Namespace, work: Path, pg: EmbeddedPostgres, bus: EmbeddedNats) -> int:
    zone = midday_zone(datetime.now(UTC))
    provider = Provider()
    async with serving(provider.app) as base:
        await create_database(pg.url, "notify")
        service = await asyncio.to_thread(start_notify, work, pg, bus.url, f"{base}/sms", args)
        dsn = asyncpg_dsn(pg.url_for("notify"))
        try:
            async with httpx.AsyncClient(
                base_url=service.url, timeout=60, auth=AsAdmin()
            ) as client:
                for channel, template in TEMPLATES.items():
                    stored = await client.put(f"/api/v1/templates/bench-{channel}", json=template)
                    stored.raise_for_status()
            nc = await nats.connect(bus.url)
            js = nc.jetstream()
            print(f"registering {args.loans} borrowers in {zone} ...", flush=True)
            await register(js, dsn, args.loans, zone)
            print(f"{args.burst} voice requests at once, to the local sink ...", flush=True)
            rate = await throughput(js, dsn, args.burst)
            print(
                f"rendered and handed to the local sink: {rate:,.0f} messages/s "
                f"(target >= {TARGET_RATE:,.0f}/s)"
            )
            print(f"SMS requests at {args.rate:.0f}/s for {args.seconds:.0f} s ...", flush=True)
            latencies, achieved, missing = await latency(js, provider, args.rate, args.seconds)
            await nc.close()
        finally:
            service.stop()
    ms = [v * 1000 for v in latencies]
    print(
        f"request event -> provider call: {len(ms)} at {achieved:.0f}/s; "
        f"p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms, "
        f"p99 {percentile(ms, 99):.1f} ms (target <= {TARGET_P99_MS:.0f} ms); "
        f"{missing} not received; {args.workers} send loops, cpus {os.cpu_count()}"
    )
    return 0 if missing == 0 else 1


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pg, bus = EmbeddedPostgres(work / "pg").start(), EmbeddedNats(work / "nats").start()
        try:
            return await run(args, work, pg, bus)
        finally:
            bus.stop()
            pg.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--loans", type=int, default=6000)
    parser.add_argument("--burst", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--poll", type=float, default=0.02)
    parser.add_argument("--workers", type=int, default=2, help="POSTLOAN_SEND_WORKERS")
    parsed = parser.parse_args()
    if parsed.loans < max(parsed.burst, int(parsed.rate * parsed.seconds)):
        parser.error("--loans must cover --burst and --rate x --seconds (one borrower each)")
    sys.exit(asyncio.run(main(parsed)))
