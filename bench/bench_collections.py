"""Collections on the embedded stack: delinquency event to ``collections.contact.requested``, and
a strategy preview over a large portfolio.

Starts PostgreSQL and NATS from their wheels and collections as a process (its default
settings). Stores and activates a strategy whose segment ``early`` (bucket ``M1``) sends an SMS
on day 0, publishes ``--loans`` ``monitoring.loan.registered`` events and waits until collections
knows every loan. Then one publisher sends ``monitoring.delinquency.changed`` (``C`` to ``M1``)
for a new loan each time at a steady ``--rate`` for ``--seconds``, while a subscriber on
``postloan.collections.contact.requested`` matches each request to its loan. Latency is from
just before the publish to the request's arrival (same process, same clock): the case opened,
the strategy's segment and variant chosen, the guard's decision recorded, the ledger slot
reserved and the request relayed through the outbox. Targets (issue 13): p99 <= 200 ms at 300
events/s.

Collections decides contacts by the real wall clock, so the borrowers live in a time zone where
it is the middle of the day when the bench runs (a bench, unlike a test, may read the clock).

The preview part loads ``--preview-loans`` open cases straight into collections' database (one
INSERT ... SELECT from generate_series) and times
``POST /api/v1/strategies/{id}/versions/{v}/preview`` over them (target <= 30 s for 1,000,000).

    uv run python bench/bench_collections.py [--seconds 20] [--rate 300] [--preview-loans 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import nats
from nats.aio.client import Client
from nats.aio.msg import Msg

from devstack.embedded import EmbeddedNats, EmbeddedPostgres
from postloan_testing.processes import ServiceProcess
from shared.db import asyncpg_dsn, create_database
from shared.events import DelinquencyChanged, LoanAccepted

TESTS = Path(__file__).parents[1] / "tests"
sys.path.insert(0, str(TESTS.parent))  # the bench package, for the scoring bench's helpers
from bench.bench_scoring_events import Publisher, paced, percentile, wait_until  # noqa: E402
from bench.signing import PRINCIPAL_SECRET, AsAdmin  # noqa: E402

REQUESTED = "postloan.collections.contact.requested"
TARGET_P99_MS, TARGET_PREVIEW_S = 200.0, 30.0
ZONES = ("Asia/Shanghai", "Asia/Kolkata", "Europe/London", "America/New_York",
         "America/Los_Angeles", "Pacific/Auckland", "Asia/Tokyo", "Europe/Moscow",
         "America/Sao_Paulo")  # fmt: skip
STRATEGY = {
    "name": "bench", "products": ["default"],
    "segments": [
        {"segment": "early-risky", "when": {"buckets": ["M1"], "tiers": ["D", "E"]},
         "variants": [{"variant": "champion", "share": "0.8",
                       "path": [{"day": 0, "action": "sms", "template_id": "reminder-soft"}]},
                      {"variant": "challenger", "share": "0.2",
                       "path": [{"day": 0, "action": "voice", "template_id": "reminder-ivr"}]}]},
        {"segment": "early", "when": {"buckets": ["M1"]},
         "path": [{"day": 0, "action": "sms", "template_id": "reminder-soft"}]},
        {"segment": "late", "when": {"min_dpd": 31, "min_outstanding": "5000.00"},
         "path": [{"day": 0, "action": "letter", "template_id": "final"}]},
    ],
}  # fmt: skip


def midday_zone(now: datetime) -> str:
    """A zone where ``now`` is between 10:00 and 16:00: inside every pack's contact hours."""
    for zone in ZONES:
        if 10 <= now.astimezone(ZoneInfo(zone)).hour < 16:
            return zone
    raise RuntimeError("no listed zone is at midday now; add one to ZONES")


def registration(loan_id: str, zone: str) -> LoanAccepted:
    sys.path.insert(0, str(TESTS))
    from factories import make_registration

    body = make_registration(loan_id=loan_id, borrower_id=f"B-{loan_id}")
    body["borrower"]["time_zone"] = zone
    return LoanAccepted.model_validate({**body, "first_due_on": "2026-02-15"})


def delinquent(loan_id: str) -> DelinquencyChanged:
    return DelinquencyChanged(
        loan_id=loan_id, borrower_id=f"B-{loan_id}", business_date=date(2026, 2, 16),
        dpd_before=0, dpd=1, bucket_before="C", bucket="M1", overdue_amount=Decimal("1066.19"),
    )  # fmt: skip


def start_collections(work: Path, pg: EmbeddedPostgres, nats_url: str) -> ServiceProcess:
    env = {
        "POSTLOAN_PRINCIPAL_SECRET": PRINCIPAL_SECRET,
        "POSTLOAN_DATABASE_URL": pg.url_for("collections"),
        "POSTLOAN_NATS_URL": nats_url,
        "POSTLOAN_SERVICE_NAME": "collections",
        "POSTLOAN_LOG_LEVEL": "WARNING",
    }
    app = "collections_service.main:create_app"
    return ServiceProcess(app, env=env, log_file=work / "collections.log").start(timeout=90)


def process_cpu_s(service: ServiceProcess) -> float:
    """The service process's CPU time so far (user + system), from /proc: a figure that holds
    on a busy machine, where latencies do not."""
    assert service.proc is not None
    fields = Path(f"/proc/{service.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def with_strategy(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60, auth=AsAdmin()) as client:
        (await client.put("/api/v1/strategies/bench", json=STRATEGY)).raise_for_status()
        (await client.post("/api/v1/strategies/bench/versions/1/activate")).raise_for_status()


async def register(nc: Client, dsn: str, loans: list[str], zone: str) -> None:
    publisher = Publisher(nc.jetstream())
    for loan_id in loans:
        await publisher.send(registration(loan_id, zone))
    await publisher.settled()
    conn = await asyncpg.connect(dsn)
    try:

        async def known() -> bool:
            return bool(await conn.fetchval("SELECT count(*) FROM loan_ref") >= len(loans))

        await wait_until(known, "every loan known to collections", timeout=600)
    finally:
        await conn.close()


async def delinquency_loop(
    nc: Client, loans: list[str], rate: float, seconds: float
) -> tuple[list[float], float, int]:
    sent: dict[str, float] = {}
    latencies: list[float] = []

    async def on_request(msg: Msg) -> None:
        at = sent.pop(json.loads(msg.data)["data"]["loan_id"], None)
        if at is not None:
            latencies.append(time.perf_counter() - at)

    sub = await nc.subscribe(REQUESTED, cb=on_request)
    publisher = Publisher(nc.jetstream())

    async def send(i: int) -> None:
        sent[loans[i]] = time.perf_counter()
        await publisher.send(delinquent(loans[i]))

    achieved = await paced(rate, seconds, send)
    await publisher.settled()
    deadline = time.monotonic() + 60
    while sent and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await sub.unsubscribe()
    return latencies, achieved, len(sent)


def references(prefix: str) -> str:
    """``$1`` borrowers ``<prefix>B-i`` and their loans ``<prefix>L-i``, straight into
    collections' reference tables (statements separated by ``;``)."""
    return f"""
INSERT INTO borrower_ref (borrower_id, name, phone, email, time_zone, locale)
SELECT '{prefix}B-' || i, 'borrower ' || i, '+8613800000000', NULL, 'Asia/Shanghai', 'zh-CN'
FROM generate_series(1, $1) AS i;
INSERT INTO loan_ref (loan_id, borrower_id, product, jurisdiction, principal, currency,
                      disbursed_on)
SELECT '{prefix}L-' || i, '{prefix}B-' || i, 'default', 'cn', 1000 + (i % 20000), 'CNY',
       DATE '2026-01-15'
FROM generate_series(1, $1) AS i;
"""


LOAD_CASES = (
    references("P")
    + """
INSERT INTO collection_case (case_id, loan_id, borrower_id, status, opened_on, dpd, bucket,
                             overdue_amount, tier, quadrant, pack)
SELECT gen_random_uuid(), 'PL-' || i, 'PB-' || i, 'open', DATE '2026-02-16', 1 + i % 90,
       CASE WHEN i % 90 < 30 THEN 'M1' WHEN i % 90 < 60 THEN 'M2' ELSE 'M3' END, 100.00,
       (ARRAY['A','B','C','D','E'])[1 + i % 5], NULL, 'cn'
FROM generate_series(1, $1) AS i;
ANALYZE;
"""
)


async def preview_bench(url: str, dsn: str, loans: int) -> tuple[float, int]:
    conn = await asyncpg.connect(dsn)
    try:
        for statement in filter(str.strip, LOAD_CASES.split(";")):
            if "$1" in statement:
                await conn.execute(statement, loans)
            else:
                await conn.execute(statement)
    finally:
        await conn.close()
    async with httpx.AsyncClient(base_url=url, timeout=600, auth=AsAdmin()) as client:
        started = time.perf_counter()
        answer = await client.post("/api/v1/strategies/bench/versions/1/preview", json={})
        elapsed = time.perf_counter() - started
        answer.raise_for_status()
    return elapsed, int(answer.json()["total"])


async def main(args: argparse.Namespace) -> int:
    zone = midday_zone(datetime.now(UTC))
    events = int(args.rate * args.seconds)
    loans = [f"BL-{i:07d}" for i in range(events)]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pg, bus = EmbeddedPostgres(work / "pg").start(), EmbeddedNats(work / "nats").start()
        try:
            await create_database(pg.url, "collections")
            service = start_collections(work, pg, bus.url)
            dsn = asyncpg_dsn(pg.url_for("collections"))
            try:
                await with_strategy(service.url)
                nc = await nats.connect(bus.url)
                print(f"registering {events} loans of borrowers in {zone} ...", flush=True)
                await register(nc, dsn, loans, zone)
                print(
                    f"delinquency events at {args.rate:.0f}/s for {args.seconds:.0f} s ...",
                    flush=True,
                )
                cpu_before = process_cpu_s(service)
                latencies, achieved, missing = await delinquency_loop(
                    nc, loans, args.rate, args.seconds
                )
                cpu_per_event_ms = (process_cpu_s(service) - cpu_before) * 1000 / events
                await nc.close()
                ms = [v * 1000 for v in latencies]
                p99 = percentile(ms, 99)
                print(
                    f"event -> contact.requested: {len(ms)} of {events} at {achieved:.0f}/s; "
                    f"p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms, "
                    f"p99 {p99:.1f} ms (target <= {TARGET_P99_MS:.0f} ms); {missing} unanswered"
                )
                print(
                    f"collections' own CPU: {cpu_per_event_ms:.2f} ms per event "
                    f"(one core answers at most ~{1000 / cpu_per_event_ms:,.0f} events/s)"
                )
                print(f"loading {args.preview_loans} open cases for the preview ...", flush=True)
                seconds, total = await preview_bench(service.url, dsn, args.preview_loans)
                print(
                    f"preview over {total} open cases: {seconds:.1f} s "
                    f"(target <= {TARGET_PREVIEW_S:.0f} s for 1,000,000)"
                )
            finally:
                service.stop()
        finally:
            bus.stop()
            pg.stop()
    return 0 if missing == 0 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--preview-loans", type=int, default=1_000_000)
    sys.exit(asyncio.run(main(parser.parse_args())))
