"""Stacks run as processes by a test, ended by its finaliser whatever the test did.

A runner killed by a failing test (``runner.kill()`` in a ``finally``) takes its apps with it
(they are tethered), but embedded PostgreSQL and NATS lead their own sessions and outlive it;
the runner's ``processes.json`` names them, so the finaliser ends what it lists.
"""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from devstack.config import COMPONENTS
from devstack.reaper import Registry

READY_TIMEOUT_S = 120.0


def stack_command() -> list[str]:
    script = shutil.which("postloan-stack", path=str(Path(sys.executable).parent))
    return [script, "run"] if script else [sys.executable, "-m", "devstack", "run"]


def fresh_environment(state_dir: Path, gateway_port: int, **more: str) -> dict[str, str]:
    """The developer's environment without any server of their own: everything embedded."""
    given = {"POSTLOAN_POSTGRES_URL", "POSTLOAN_NATS_URL", "POSTLOAN_ADMIN_PASSWORD"}
    given |= {c.database_url_variable for c in COMPONENTS}
    given |= {"DEMO", "DEMO_LOANS", "DEMO_MONTHS", "DEMO_START", "NO_COLOR", "FORCE_COLOR"}
    env = {k: v for k, v in os.environ.items() if k not in given}
    env.update(POSTLOAN_STATE_DIR=str(state_dir), POSTLOAN_GATEWAY_PORT=str(gateway_port))
    env.update(more)
    return env


def wait_until_up(runner: subprocess.Popen[bytes], url: str, output: Path) -> None:
    """Until the gateway answers ``/readyz`` 200 and the runner says every app is ready."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if runner.poll() is not None:
                pytest.fail(f"the stack exited with {runner.returncode}:\n{output.read_text()}")
            try:
                ready = client.get(url).status_code == 200
            except httpx.HTTPError:
                ready = False
            if ready and "PostLoan is running" in output.read_text():
                return
            time.sleep(0.5)
    pytest.fail(f"the stack is not up after {READY_TIMEOUT_S:.0f} s:\n{output.read_text()}")


class Stacks:
    """The runners a test started, with their state folders."""

    def __init__(self) -> None:
        self.runs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def track(self, runner: subprocess.Popen[bytes], state: Path) -> subprocess.Popen[bytes]:
        self.runs.append((runner, state))
        return runner

    def end(self) -> list[str]:
        """Stop every runner still running (Ctrl-C, then kill), then sweep its leftovers."""
        left: list[str] = []
        for runner, state in self.runs:
            if runner.poll() is None:
                runner.send_signal(signal.SIGINT)
                try:
                    runner.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    runner.kill()
                    runner.wait()
            left += sweep(state)
        return left


def sweep(state: Path) -> list[str]:
    """End what a dead runner of ``state`` left running; their names."""
    path = state / "processes.json"
    if not path.exists():
        return []
    registry = Registry(path)
    left = registry.claim()
    registry.release()
    return left


PASSWORD = "resilience-test-password"


def loan(n: int) -> dict[str, Any]:
    return {
        "loan_id": f"RES-L{n:03}",
        "borrower": {
            "borrower_id": f"RES-B{n:03}",
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


def payment(n: int) -> dict[str, Any]:
    return {
        "payment_id": f"RES-P{n:03}",
        "loan_id": f"RES-L{n:03}",
        "amount": "500.00",
        "currency": "CNY",
        "paid_at": "2026-02-15T10:00:00+08:00",
        "channel": "bank",
    }


class Client:
    """The gateway as user admin; a request is retried until accepted (at least once)."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=10.0, trust_env=False)
        self.accepted: list[int] = []
        #: When each booking's requests were last answered 200/201 (monotonic), by number.
        self.acked: dict[int, list[float]] = {}
        self.lost: list[int] = []

    def login(self) -> None:
        form = {"username": "admin", "password": PASSWORD}
        token = self.http.post("/api/v1/auth/token", data=form).json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"

    def book(self, n: int) -> None:
        """Register loan ``n`` and pay into it, retrying through an outage.

        A payment that keeps finding no loan after the loan was answered 201 means the
        registration was lost (see ``AT_RISK_S`` in test_supervision): noted in ``lost``.
        """
        for path, body in (("/api/v1/loans", loan(n)), ("/api/v1/payments", payment(n))):
            deadline, unknown_since = time.monotonic() + 60, None
            while True:
                try:
                    answer = self.http.post(path, json=body)
                    status, said = answer.status_code, answer.text[:300]
                except httpx.HTTPError as exc:
                    status, said = 0, repr(exc)
                if status == 401:
                    self.login()
                    continue
                if status in (200, 201):  # 200: accepted before (idempotent), nothing twice
                    self.acked.setdefault(n, []).append(time.monotonic())
                    break
                if status == 404 and "loan not found" in said:
                    unknown_since = unknown_since or time.monotonic()
                    if time.monotonic() - unknown_since > 5.0:
                        self.lost.append(n)
                        return
                assert time.monotonic() < deadline, f"{path} still {status} after 60 s: {said}"
                time.sleep(0.5)
        self.accepted.append(n)

    def answers(self) -> bool:
        try:
            response = self.http.get("/api/v1/loans", params={"limit": 1})
        except httpx.HTTPError:
            return False
        if response.status_code == 401:
            self.login()
            return False
        return response.status_code == 200


def pid_of(state: Path, name: str) -> int:
    """The current process of ``name`` (the registry's latest entry for it)."""
    entries = json.loads((state / "processes.json").read_text())
    return int([e for e in entries if e["name"] == name][-1]["pid"])


def rows(state: Path, database: str, query: str) -> list[str]:
    port = json.loads((state / "ports.json").read_text())["postgres"]

    async def fetch() -> list[str]:
        conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/{database}")
        try:
            return [r[0] for r in await conn.fetch(query)]
        finally:
            await conn.close()

    return asyncio.run(fetch())
