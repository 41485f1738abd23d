"""The supervisor with tiny stand-in apps, against the test session's PostgreSQL and NATS."""

import asyncio
import contextlib
import io
import os
import re
import socket
from collections.abc import Callable, Mapping
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

from devstack.config import Component, StackConfig
from devstack.console import Console
from devstack.embedded import free_port
from devstack.stack import Stack, StackInfo
from postloan_testing.plugin import NatsUnderTest, PostgresUnderTest
from shared.db import asyncpg_dsn, create_database

TINY_APP = """
import os, sys, time

def create_app():
    name = os.environ["POSTLOAN_SERVICE_NAME"]
    mode = os.environ.get("TINY_" + name.upper(), "ok")
    print(name, "uses", os.environ["POSTLOAN_DATABASE_URL"].rsplit("/", 1)[1], flush=True)
    if mode == "exit":
        print("cannot start: the configuration is wrong", flush=True)
        sys.exit(3)

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        if scope["path"] == "/crash":
            print("about to crash", flush=True)
            os._exit(7)
        if scope["path"] == "/hang":
            print("about to hang", flush=True)
            time.sleep(3600)  # blocks the event loop: nothing is answered any more
        status = 503 if mode == "unready" else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    return app
"""


def tiny(name: str) -> Component:
    return Component(name, "tiny_app:create_app", 0)


def make_stack(
    tmp_path: Path,
    postgres: PostgresUnderTest,
    nats: NatsUnderTest,
    *,
    ready_timeout_s: float = 60.0,
    embedded_nats: bool = False,
    env_more: Mapping[str, str] | None = None,
    **modes: str,
) -> tuple[Stack, io.StringIO]:
    apps = tmp_path / "apps"
    apps.mkdir()
    (apps / "tiny_app.py").write_text(TINY_APP)
    config = StackConfig(
        state_dir=tmp_path / "state",
        gateway_port=free_port(),
        postgres_url=postgres.server_url,
        nats_url=None if embedded_nats else nats.url,
        ready_timeout_s=ready_timeout_s,
        services=(tiny("alpha"), tiny("beta")),
        gateway=tiny("front"),
    )
    path = os.pathsep.join(p for p in (str(apps), os.environ.get("PYTHONPATH")) if p)
    env: Mapping[str, str] = {
        **os.environ,
        "PYTHONPATH": path,
        **{f"TINY_{name.upper()}": mode for name, mode in modes.items()},
        **(env_more or {}),
    }
    out = io.StringIO()
    return Stack(config, env, Console(out)), out


def family(stack: Stack) -> list[psutil.Process]:
    procs = [psutil.Process(c.pid) for c in stack.children]
    procs += [psutil.Process(s.proc.pid) for s in stack.infra.servers]
    return procs + [d for p in procs for d in p.children(recursive=True)]


async def test_a_stopped_stack_exits_zero_and_leaves_no_process_behind(
    tmp_path: Path, postgres: PostgresUnderTest, nats_server: NatsUnderTest
) -> None:
    stack, out = make_stack(tmp_path, postgres, nats_server)
    seen: list[StackInfo] = []
    started: list[psutil.Process] = []

    async def when_ready(info: StackInfo) -> None:
        seen.append(info)
        async with httpx.AsyncClient(trust_env=False) as client:
            assert (await client.get(f"{info.gateway_url}/readyz")).status_code == 200
        started.extend(family(stack))
        stack.stopping.set()

    assert await stack.run([when_ready]) == 0

    assert seen[0].gateway_url == f"http://127.0.0.1:{stack.config.gateway_port}"
    assert sorted(seen[0].service_urls) == ["alpha", "beta"]
    assert len(started) == 3
    _, alive = psutil.wait_procs(started, timeout=5)
    assert alive == []
    assert "PostLoan is running" in out.getvalue()
    assert not (tmp_path / "state" / "processes.json").exists()
    assert "beta uses postloan_beta" in (tmp_path / "state" / "logs" / "beta.log").read_text()


async def test_an_app_that_exits_at_start_is_named_with_its_last_lines(
    tmp_path: Path, postgres: PostgresUnderTest, nats_server: NatsUnderTest
) -> None:
    stack, out = make_stack(tmp_path, postgres, nats_server, beta="exit")

    assert await stack.run() == 1

    text = out.getvalue()
    assert "✖ beta: exited with code 3 before it was ready" in text
    assert "beta        | cannot start: the configuration is wrong" in text
    assert "PostLoan is running" not in text
    assert all(c.returncode is not None for c in stack.children)


async def answers(url: str, timeout_s: float = 30.0) -> None:
    """Until ``url`` answers 200 again."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    async with httpx.AsyncClient(timeout=1.0, trust_env=False) as client:
        while asyncio.get_running_loop().time() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    pytest.fail(f"{url} does not answer after {timeout_s:.0f} s")


async def crash(url: str) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        with pytest.raises(httpx.HTTPError):
            await client.get(url)


async def test_an_app_that_crashes_later_is_restarted_with_its_reason(
    tmp_path: Path, postgres: PostgresUnderTest, nats_server: NatsUnderTest
) -> None:
    stack, out = make_stack(tmp_path, postgres, nats_server)
    pids: list[int] = []

    async def crash_alpha(info: StackInfo) -> None:
        alpha = info.service_urls["alpha"]
        pids.append(stack.children[0].pid)
        await crash(f"{alpha}/crash")
        await until(lambda: restarted(out, "alpha"))
        await answers(f"{alpha}/healthz")
        pids.append(stack.children[0].pid)
        stack.stopping.set()

    assert await stack.run([crash_alpha]) == 0

    text = out.getvalue()
    assert "✖ alpha: exited with code 7; restarting it in 1 s" in text
    assert "alpha       | about to crash" in text
    assert restarted(out, "alpha")
    assert pids[0] != pids[1]
    assert not psutil.pid_exists(pids[1]) or psutil.Process(pids[1]).status() == "zombie"


def restarted(out: io.StringIO, name: str) -> bool:
    return re.search(rf"^{name} +\| ✔ restarted \(pid", out.getvalue(), re.MULTILINE) is not None


async def until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"still not so after {timeout_s:.0f} s")
        await asyncio.sleep(0.1)


async def test_past_the_restart_limit_an_app_is_given_up_and_the_rest_keeps_serving(
    tmp_path: Path, postgres: PostgresUnderTest, nats_server: NatsUnderTest
) -> None:
    limit = {"POSTLOAN_RESTART_LIMIT": "1"}
    stack, out = make_stack(tmp_path, postgres, nats_server, env_more=limit)

    async def crash_alpha_twice(info: StackInfo) -> None:
        alpha = info.service_urls["alpha"]
        await crash(f"{alpha}/crash")
        await until(lambda: restarted(out, "alpha"))
        await answers(f"{alpha}/healthz")
        await crash(f"{alpha}/crash")
        await until(lambda: "NOT restarted again" in out.getvalue())
        await answers(f"{info.service_urls['beta']}/healthz")
        await answers(f"{info.gateway_url}/healthz")
        stack.stopping.set()

    assert await stack.run([crash_alpha_twice]) == 0

    text = out.getvalue()
    assert "✖ alpha: exited with code 7; restarted 1 times in 300 s, so it is NOT restarted" in text
    assert len(re.findall(r"alpha +\| ✔ restarted \(pid", text)) == 1


async def test_an_app_that_stops_answering_its_health_check_is_restarted(
    tmp_path: Path, postgres: PostgresUnderTest, nats_server: NatsUnderTest
) -> None:
    quick = {"POSTLOAN_HEALTH_INTERVAL_S": "0.3"}
    stack, out = make_stack(tmp_path, postgres, nats_server, env_more=quick)

    async def hang_beta(info: StackInfo) -> None:
        beta = info.service_urls["beta"]
        with contextlib.suppress(httpx.HTTPError):
            async with httpx.AsyncClient(timeout=0.5, trust_env=False) as client:
                await client.get(f"{beta}/hang")
        await until(lambda: restarted(out, "beta"))
        await answers(f"{beta}/healthz")
        stack.stopping.set()

    assert await stack.run([hang_beta]) == 0

    assert "✖ beta: stopped answering its health check (3 times: ReadTimeout)" in out.getvalue()


async def test_an_app_never_ready_fails_after_the_timeout_naming_its_answer(
    tmp_path: Path, postgres: PostgresUnderTest, nats_server: NatsUnderTest
) -> None:
    stack, out = make_stack(tmp_path, postgres, nats_server, ready_timeout_s=3, front="unready")

    assert await stack.run() == 1

    assert "✖ front: not ready after 3 s (GET http://127.0.0.1:" in out.getvalue()
    assert "/readyz: 503" in out.getvalue()


async def test_a_busy_gateway_port_is_reported_before_anything_starts(
    tmp_path: Path, postgres: PostgresUnderTest, nats_server: NatsUnderTest
) -> None:
    stack, out = make_stack(tmp_path, postgres, nats_server)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", stack.config.gateway_port))
        busy.listen()
        assert await stack.run() == 1

    assert "POSTLOAN_GATEWAY_PORT" in out.getvalue()
    assert stack.children == []


async def test_a_server_that_dies_is_restarted_on_its_port_and_folder(
    tmp_path: Path, postgres: PostgresUnderTest, nats_server: NatsUnderTest
) -> None:
    stack, out = make_stack(tmp_path, postgres, nats_server, embedded_nats=True)
    ports: list[int] = []

    async def kill_nats(info: StackInfo) -> None:
        (nats,) = stack.infra.servers
        ports.append(nats.handle.port)
        nats.proc.kill()
        await until(lambda: restarted(out, "nats"))
        ports.append(nats.handle.port)
        assert nats.proc.poll() is None
        stack.stopping.set()

    assert await stack.run([kill_nats]) == 0

    assert "✖ nats: exited with code -9; restarting it in 1 s" in out.getvalue()
    assert ports[0] == ports[1]
    assert stack.infra.servers[0].proc.poll() is not None
    assert (tmp_path / "state" / "nats" / "nats.conf").exists()


async def test_a_second_stack_on_the_same_state_folder_refuses_and_leaves_the_first_alone(
    tmp_path: Path, postgres: PostgresUnderTest, nats_server: NatsUnderTest
) -> None:
    first, _ = make_stack(tmp_path, postgres, nats_server)
    second = Stack(first.config, first.env, Console(io.StringIO()))
    outcome: list[int] = []

    async def start_second(info: StackInfo) -> None:
        outcome.append(await second.run())
        assert (tmp_path / "state" / "processes.json").exists()
        assert all(c.returncode is None for c in first.children)
        first.stopping.set()

    assert await first.run([start_second]) == 0
    assert outcome == [1]


async def test_hooks_go_on_while_an_app_is_restarted(
    tmp_path: Path, postgres: PostgresUnderTest, nats_server: NatsUnderTest
) -> None:
    stack, out = make_stack(tmp_path, postgres, nats_server)
    finished: list[bool] = []

    async def seed_through_a_crash(info: StackInfo) -> None:
        await crash(f"{info.service_urls['beta']}/crash")
        await until(lambda: restarted(out, "beta"))
        finished.append(True)
        stack.stopping.set()

    assert await stack.run([seed_through_a_crash]) == 0

    assert finished == [True]
    assert "✖ beta: exited with code 7; restarting it in 1 s" in out.getvalue()


async def test_a_stop_during_a_hook_cancels_it_and_the_stack_stops_cleanly(
    tmp_path: Path, postgres: PostgresUnderTest, nats_server: NatsUnderTest
) -> None:
    stack, out = make_stack(tmp_path, postgres, nats_server)
    ran: list[str] = []

    async def slow(info: StackInfo) -> None:
        ran.append("slow")
        asyncio.get_running_loop().call_later(0.2, stack.stopping.set)
        await asyncio.Event().wait()

    async def never(info: StackInfo) -> None:
        ran.append("never")

    assert await stack.run([slow, never]) == 0

    assert ran == ["slow"]
    assert all(c.returncode is not None for c in stack.children)
    assert "stopped; no process is left behind" in out.getvalue()


async def test_a_state_folder_from_a_newer_version_is_refused_before_any_app_starts(
    tmp_path: Path, postgres: PostgresUnderTest, nats_server: NatsUnderTest
) -> None:
    stack, out = make_stack(tmp_path, postgres, nats_server)
    await create_database(postgres.server_url, "postloan_beta")
    conn = await asyncpg.connect(asyncpg_dsn(postgres.url_for("postloan_beta")))
    await conn.execute("CREATE TABLE shared_alembic_version (version_num varchar(32))")
    await conn.execute("INSERT INTO shared_alembic_version VALUES ('9999')")
    try:
        assert await stack.run() == 1
    finally:
        await conn.execute("DROP TABLE shared_alembic_version")
        await conn.close()

    text = out.getvalue()
    assert f"✖ stack: the state folder {tmp_path / 'state'} was written by a newer" in text
    assert "beta is at shared revision 9999, which this version does not know" in text
    assert stack.children == []
