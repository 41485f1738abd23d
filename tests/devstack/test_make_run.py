"""``make run`` on a fresh clone: the real stack comes up, and Ctrl-C leaves nothing behind."""

import json
import re
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from stack_runs import READY_TIMEOUT_S, Stacks, fresh_environment, stack_command, wait_until_up

from devstack.config import COMPONENTS
from devstack.embedded import free_port
from simulator.contract import add_months


def command_of(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:  # a short-lived PostgreSQL worker
        return ""


@pytest.mark.slow
def test_make_run_serves_readyz_and_ctrl_c_leaves_no_process_behind(
    tmp_path: Path, stacks: Stacks
) -> None:
    state, port, output = tmp_path / "state", free_port(), tmp_path / "stack.out"
    with output.open("wb") as sink:
        runner = subprocess.Popen(
            stack_command(),
            cwd=tmp_path,
            env=fresh_environment(state, port, DEMO="0"),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    stacks.track(runner, state)
    try:
        wait_until_up(runner, f"http://127.0.0.1:{port}/readyz", output)
        started = psutil.Process(runner.pid).children(recursive=True)
        commands = " ".join(command_of(p) for p in started)

        runner.send_signal(signal.SIGINT)
        code = runner.wait(timeout=90)
    finally:
        if runner.poll() is None:
            runner.kill()

    assert code == 0, output.read_text()
    for component in COMPONENTS:
        assert component.app in commands
    assert "postgres" in commands
    assert "nats-server" in commands
    _, alive = psutil.wait_procs(started, timeout=10)
    assert alive == [], f"left behind: {[p.cmdline() for p in alive]}"
    text = output.read_text()
    assert f"http://127.0.0.1:{port}/docs" in text
    assert str(state / "admin-password") in text
    assert "demo        | … no demo portfolio (DEMO=0)" in text
    assert (state / "admin-password").stat().st_mode & 0o077 == 0


def wait_for(
    runner: subprocess.Popen[bytes], output: Path, pattern: str, timeout_s: float
) -> re.Match[str]:
    """Until a line of the output matches the regular expression ``pattern``."""
    deadline = time.monotonic() + timeout_s
    while (found := re.search(pattern, output.read_text(), re.MULTILINE)) is None:
        if runner.poll() is not None:
            pytest.fail(f"the stack exited with {runner.returncode}:\n{output.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {pattern!r} after {timeout_s:.0f} s:\n{output.read_text()}")
        time.sleep(0.1)
    return found


def run_until(
    stacks: Stacks,
    tmp_path: Path,
    name: str,
    port: int,
    pattern: str,
    then: Callable[[str], None] = lambda _: None,
    env_more: dict[str, str] | None = None,
) -> tuple[str, Path]:
    """Start the stack with a tiny demo, wait for a line matching ``pattern``, call ``then``
    with the gateway's URL, Ctrl-C: it exits 0 and leaves nothing behind."""
    state, output = tmp_path / "state", tmp_path / f"{name}.out"
    env = fresh_environment(state, port, DEMO_LOANS="20", DEMO_MONTHS="1", **(env_more or {}))
    with output.open("wb") as sink:
        runner = subprocess.Popen(
            stack_command(), cwd=tmp_path, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    stacks.track(runner, state)
    try:
        wait_until_up(runner, f"http://127.0.0.1:{port}/readyz", output)
        wait_for(runner, output, pattern, READY_TIMEOUT_S)
        then(f"http://127.0.0.1:{port}")
        started = psutil.Process(runner.pid).children(recursive=True)
        runner.send_signal(signal.SIGINT)
        code = runner.wait(timeout=90)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert code == 0, output.read_text()
    _, alive = psutil.wait_procs(started, timeout=10)
    assert alive == [], f"left behind: {[p.cmdline() for p in alive]}"
    return output.read_text(), state


#: The demo announces its plan, then prints a line per tenth of its days.
ANNOUNCED = r"20 loans, 1 month from (\d{4}-\d{2}-\d{2}); DEMO=0 skips"
FIRST_TENTH = r"demo        \| … day \d+/\d+ \(10%\)"
SEEDED = r"✔ demo portfolio: 20 loans, (\d+) days"


@pytest.mark.slow
@pytest.mark.parametrize(
    "demo_start",
    [
        pytest.param("", id="from-the-calendar"),
        pytest.param("2026-11-01", id="a-30-day-month"),
        pytest.param("2026-12-01", id="a-31-day-month-into-the-next-year"),
    ],
)
def test_the_demo_is_seeded_once_and_a_ctrl_c_during_it_is_resumed(
    tmp_path: Path, demo_start: str, stacks: Stacks
) -> None:
    """Whatever today is: the expected days and business date follow from the announced plan."""
    port, ledger = free_port(), Ledger(tmp_path / "state")
    more = {"DEMO_START": demo_start} if demo_start else {}

    first, state = run_until(stacks, tmp_path, "first", port, FIRST_TENTH, env_more=more)
    second, _ = run_until(stacks, tmp_path, "second", port, SEEDED, env_more=more)
    already = r"demo        \| … monitoring already"
    third, _ = run_until(stacks, tmp_path, "third", port, already, ledger, more)

    announced = re.search(ANNOUNCED, first)
    assert announced is not None, first
    start = date.fromisoformat(announced[1])
    if demo_start:
        assert start == date.fromisoformat(demo_start)
    days = (add_months(start, 1) - start).days
    assert re.search(rf"day \d+/{days} \(10%\)", first), first
    seeded = re.search(SEEDED, second)
    assert seeded is not None
    assert int(seeded[1]) == days
    assert "seeding a demo portfolio (monitoring has no loan yet): 20 loans, 1 month" in first
    assert "seeding stopped at day " in first
    assert "stack       | ✔ stopped; no process is left behind" in first
    assert "going on seeding a demo portfolio (going on with the demo portfolio" in second
    assert "✖" not in first + second + third
    assert json.loads((state / "demo.json").read_text())["finished"] is True
    assert len(ledger.loans) == 20
    assert all(loan["loan_id"].startswith("SIM42-L") for loan in ledger.loans)
    assert ledger.business_date == add_months(start, 1).isoformat()


class Ledger:
    """Reads the loans and the business date through the gateway, as user admin."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.loans: list[dict[str, Any]] = []
        self.business_date = ""

    def __call__(self, gateway_url: str) -> None:
        password = (self.state / "admin-password").read_text().strip()
        with httpx.Client(base_url=gateway_url, timeout=10.0, trust_env=False) as client:
            login = {"username": "admin", "password": password}
            token = client.post("/api/v1/auth/token", data=login).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            self.loans = client.get("/api/v1/loans", params={"limit": 100}).json()["items"]
            self.business_date = client.get("/api/v1/business-date").json()["business_date"]
