"""``make run`` on a fresh clone: the real stack comes up, and Ctrl-C leaves nothing behind."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from devstack.config import COMPONENTS
from shared.embedded import free_port

READY_TIMEOUT_S = 120.0


def stack_command() -> list[str]:
    script = shutil.which("postloan-stack", path=str(Path(sys.executable).parent))
    return [script, "run"] if script else [sys.executable, "-m", "devstack", "run"]


def fresh_environment(state_dir: Path, gateway_port: int) -> dict[str, str]:
    """The developer's environment without any server of their own: everything embedded."""
    given = {"POSTLOAN_POSTGRES_URL", "POSTLOAN_NATS_URL", "POSTLOAN_ADMIN_PASSWORD"}
    given |= {c.database_url_variable for c in COMPONENTS}
    env = {k: v for k, v in os.environ.items() if k not in given}
    env.update(POSTLOAN_STATE_DIR=str(state_dir), POSTLOAN_GATEWAY_PORT=str(gateway_port))
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


def command_of(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:  # a short-lived PostgreSQL worker
        return ""


@pytest.mark.slow
def test_make_run_serves_readyz_and_ctrl_c_leaves_no_process_behind(tmp_path: Path) -> None:
    state, port, output = tmp_path / "state", free_port(), tmp_path / "stack.out"
    with output.open("wb") as sink:
        runner = subprocess.Popen(
            stack_command(),
            cwd=tmp_path,
            env=fresh_environment(state, port),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
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
    assert (state / "admin-password").stat().st_mode & 0o077 == 0
