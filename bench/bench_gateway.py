"""Gateway overhead: one authenticated endpoint called directly and through the gateway.

Starts, each in its own process on 127.0.0.1: embedded PostgreSQL and NATS (the gateway's
database and bus), a trivial upstream endpoint under uvicorn with uvloop and httptools, and
the gateway under the same server settings (as ``make run`` starts it). A user logs in through
the gateway; then ``--clients`` concurrent keep-alive clients call ``GET /api/v1/loans/{id}``
with that bearer token, first on the upstream (which checks the token itself), then through
the gateway (which checks it and forwards), and the figures are printed side by side.

Target (issue 2): through the gateway >= 40% of the direct throughput, <= 5 ms added p99.

    uv run python bench/bench_gateway.py [--clients 8] [--seconds 6] [--rounds 3] [--recorded]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import jwt
import psutil
import uvloop
from fastapi import FastAPI, HTTPException, Request

from devstack.embedded import EmbeddedNats, EmbeddedPostgres, free_port, wait_for_port
from shared.db import create_database

SECRET = "bench-signing-key-" + "0123456789abcdef" * 4
ISSUER, AUDIENCE = "postloan", "postloan-api"
PASSWORD = "bench-admin-password"
PATH = "/api/v1/loans/L-0001"
#: A read the gateway's audit log records (one entry committed before each answer): what every
#: write costs the gateway besides forwarding it.
RECORDED_PATH = "/api/v1/cases/C-0001"


def upstream_app() -> FastAPI:
    """The service side: a trivial endpoint that refuses callers it cannot identify."""
    app = FastAPI(title="bench upstream")

    @app.get("/api/v1/cases/{loan_id}")
    @app.get("/api/v1/loans/{loan_id}")
    async def loan(loan_id: str, request: Request) -> dict[str, object]:
        """A loan, for an authenticated caller."""
        subject = request.headers.get("x-postloan-subject")  # set by the gateway
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if subject is None and token:
            claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE)
            subject = claims["sub"]
        if subject is None:
            raise HTTPException(401)
        return {"loan_id": loan_id, "dpd": 0, "bucket": "C", "viewer": subject}

    return app


# --- processes ---------------------------------------------------------------------------


def uvicorn_process(app: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "uvicorn", "--factory", app, "--port", str(port)]
    argv += ["--host", "127.0.0.1", "--loop", "uvloop", "--http", "httptools"]
    argv += ["--no-access-log", "--log-level", "warning", "--app-dir", str(Path(__file__).parent)]
    out = log.open("ab")
    return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)


@contextmanager
def terminated(proc: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout:.0f}s")


def gateway_env(database_url: str, nats_url: str, upstream: str, state: Path) -> dict[str, str]:
    return os.environ | {
        "POSTLOAN_ENVIRONMENT": "development",
        "POSTLOAN_DATABASE_URL": database_url,
        "POSTLOAN_NATS_URL": nats_url,
        "POSTLOAN_JWT_SECRET": SECRET,
        "POSTLOAN_ADMIN_PASSWORD": PASSWORD,
        "POSTLOAN_STATE_DIR": str(state),
        "POSTLOAN_UPSTREAM_MONITORING": upstream,
        "POSTLOAN_UPSTREAM_COLLECTIONS": upstream,  # the recorded read (--recorded)
        "POSTLOAN_LOG_LEVEL": "WARNING",
        "POSTLOAN_LOG_JSON": "false",
    }


def login(base: str) -> str:
    form = urllib.parse.urlencode({"username": "admin", "password": PASSWORD}).encode()
    with urllib.request.urlopen(f"{base}/api/v1/auth/token", data=form, timeout=10) as response:
        token: str = json.load(response)["access_token"]
    return token


# --- load ------------------------------------------------------------------------------------


@dataclass
class Figures:
    requests: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]

    def line(self, name: str) -> str:
        p50, p99 = self.percentile(0.50), self.percentile(0.99)
        return f"{name:<16}{self.rps:>10,.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms"


async def _client(port: int, request: bytes, until: float, latencies: list[float]) -> None:
    """One keep-alive HTTP/1.1 client, lean so that the load generator is not the limit."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (started := time.perf_counter()) < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.decode(errors="replace"))
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        writer.close()


async def load(port: int, token: str, *, clients: int, seconds: float, path: str) -> Figures:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(_client(port, request, until, latencies) for _ in range(clients)))
    return Figures(len(latencies), time.perf_counter() - started, latencies)


def cpu_seconds(proc: subprocess.Popen[bytes]) -> float:
    times = psutil.Process(proc.pid).cpu_times()
    return float(times.user + times.system)


def measure(
    port: int,
    token: str,
    *,
    clients: int,
    seconds: float,
    procs: dict[str, subprocess.Popen[bytes]],
    path: str,
) -> tuple[Figures, dict[str, float]]:
    """Figures of one run, and the CPU time each process spent per request (µs)."""
    uvloop.run(load(port, token, clients=clients, seconds=min(1.0, seconds), path=path))  # warm-up
    before = {name: cpu_seconds(p) for name, p in procs.items()}
    figures = uvloop.run(load(port, token, clients=clients, seconds=seconds, path=path))
    cost = {n: (cpu_seconds(p) - before[n]) / figures.requests * 1e6 for n, p in procs.items()}
    return figures, cost


# --- main ------------------------------------------------------------------------------------


def report(direct: list[Figures], through: list[Figures], clients: int, path: str) -> None:
    """The best round of each (the least disturbed by other work on the machine)."""
    best_direct = max(direct, key=lambda f: f.rps)
    best_through = max(through, key=lambda f: f.rps)
    ratio = best_through.rps / best_direct.rps
    added_p99 = best_through.percentile(0.99) - best_direct.percentile(0.99)
    print(f"\nGET {path}, bearer token, {clients} concurrent keep-alive clients (best round)")
    print(best_direct.line("direct"))
    print(best_through.line("via gateway"))
    print(f"throughput ratio  {ratio:.0%}   (target >= 40%)")
    print(f"added p99         {added_p99:.2f} ms   (target <= 5 ms)")
    print(f"cpus              {os.cpu_count()} (load generator, upstream and gateway share them)")


@dataclass
class Stack:
    upstream: subprocess.Popen[bytes]
    gateway: subprocess.Popen[bytes]
    upstream_port: int
    gateway_port: int


def start(stack: ExitStack, root: Path) -> Stack:
    """PostgreSQL, NATS, the upstream and the gateway; each stopped when ``stack`` closes."""
    pg = EmbeddedPostgres(root / "pg").start()
    stack.callback(pg.stop)
    nats = EmbeddedNats(root / "nats").start()
    stack.callback(nats.stop)
    asyncio.run(create_database(pg.url, "gateway"))
    upstream_port, gateway_port = free_port(), free_port()
    upstream_log, gateway_log = root / "upstream.log", root / "gateway.log"
    app = "bench_gateway:upstream_app"
    upstream = stack.enter_context(
        terminated(uvicorn_process(app, upstream_port, dict(os.environ), upstream_log))
    )
    wait_for_port(upstream_port, proc=upstream)
    upstream_url = f"http://127.0.0.1:{upstream_port}"
    env = gateway_env(pg.url_for("gateway"), nats.url, upstream_url, root)
    app = "gateway.main:create_app"
    gateway = stack.enter_context(terminated(uvicorn_process(app, gateway_port, env, gateway_log)))
    wait_ready(f"http://127.0.0.1:{gateway_port}/readyz", gateway)
    return Stack(upstream, gateway, upstream_port, gateway_port)


def run(clients: int, seconds: float, rounds: int, path: str) -> None:
    root = Path(tempfile.mkdtemp(prefix="postloan-bench-"))
    root.chmod(0o755)  # the embedded PostgreSQL runs as an unprivileged user when we are root
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        s = start(stack, root)
        token = login(f"http://127.0.0.1:{s.gateway_port}")
        procs = {"upstream": s.upstream, "gateway": s.gateway}
        direct: list[Figures] = []
        through: list[Figures] = []
        for n in range(1, rounds + 1):  # alternated, so that drift hits both alike
            for name, port, results in (
                ("direct", s.upstream_port, direct),
                ("via gateway", s.gateway_port, through),
            ):
                figures, cost = measure(
                    port, token, clients=clients, seconds=seconds, procs=procs, path=path
                )
                results.append(figures)
                cpu = "  ".join(f"{p} {us:4.0f} µs" for p, us in cost.items())
                print(f"round {n}  {figures.line(name)}   CPU per request: {cpu}")
        report(direct, through, clients, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=6.0, help="per round and target")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--recorded", action="store_true", help=f"call {RECORDED_PATH}, which the audit log records"
    )
    args = parser.parse_args()
    run(args.clients, args.seconds, args.rounds, RECORDED_PATH if args.recorded else PATH)


if __name__ == "__main__":
    main()
