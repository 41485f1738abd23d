"""A running ``make run`` stack survives SIGKILL of a service, the gateway, NATS and PostgreSQL.

Each time the API answers again within 30 s, the others are not restarted (they reconnect),
and every registration and payment accepted before, during (a load all along) and after is in
every database once — a service answers only after its commit (``shared.app.SessionDep``).
"""

import itertools
import json
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest
from stack_runs import (
    PASSWORD,
    Client,
    Stacks,
    fresh_environment,
    pid_of,
    rows,
    stack_command,
    sweep,
    wait_until_up,
)

from devstack.embedded import free_port

BACK_WITHIN_S = 30.0
#: Killed in turn: a service, the gateway, then the servers under everything.
VICTIMS = ("notify", "monitoring", "scoring", "collections", "gateway", "nats", "postgres")


def everywhere(state: Path) -> dict[str, list[str]]:
    """Where the booked loans and payments are, in each database that keeps them."""
    return {
        "monitoring loans": rows(
            state, "postloan_monitoring", "SELECT loan_id FROM loan WHERE loan_id LIKE 'RES-%'"
        ),
        "monitoring payments": rows(
            state,
            "postloan_monitoring",
            "SELECT payment_id FROM payment WHERE payment_id LIKE 'RES-%'",
        ),
        "scoring loans": rows(
            state, "postloan_scoring", "SELECT loan_id FROM loan_terms WHERE loan_id LIKE 'RES-%'"
        ),
        "collections loans": rows(
            state, "postloan_collections", "SELECT loan_id FROM loan_ref WHERE loan_id LIKE 'RES-%'"
        ),
    }


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigkill_of_each_part_is_restarted_and_nothing_is_lost_or_doubled(
    tmp_path: Path, stacks: Stacks
) -> None:
    state, port, output = tmp_path / "state", free_port(), tmp_path / "stack.out"
    env = fresh_environment(state, port, DEMO="0", POSTLOAN_ADMIN_PASSWORD=PASSWORD)
    with output.open("wb") as sink:
        runner = subprocess.Popen(
            stack_command(), cwd=tmp_path, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    stacks.track(runner, state)
    wait_until_up(runner, f"http://127.0.0.1:{port}/readyz", output)
    client, load = Client(f"http://127.0.0.1:{port}"), Client(f"http://127.0.0.1:{port}")
    client.login()
    load.login()
    stop_load, load_errors = threading.Event(), list[BaseException]()

    def keep_booking() -> None:  # the load: bookings all along, through every outage
        try:
            for m in itertools.count(500):
                if stop_load.is_set():
                    return
                load.book(m)
        except BaseException as exc:
            load_errors.append(exc)

    loader = threading.Thread(target=keep_booking, daemon=True)
    loader.start()
    n = 0
    for victim in VICTIMS:
        n += 1
        client.book(n)  # before
        psutil.Process(pid_of(state, victim)).send_signal(signal.SIGKILL)
        killed = time.monotonic()
        time.sleep(1.0)
        while not client.answers():
            waited = time.monotonic() - killed
            assert waited < BACK_WITHIN_S, f"no answer {waited:.0f} s after killing {victim}"
            assert runner.poll() is None, output.read_text()
            time.sleep(0.5)
        n += 1
        client.book(n)  # after
    stop_load.set()
    loader.join(timeout=120)
    assert load_errors == []
    assert len(load.accepted) > len(VICTIMS)
    text = output.read_text()
    for victim in VICTIMS:
        assert f"✖ {victim}: exited with code -9; restarting it in" in text
    # The others rode out the NATS and PostgreSQL restarts: reconnected, never restarted.
    restarted = re.findall(r"^(\w+) +\| ✔ restarted \(pid", text, re.MULTILINE)
    assert sorted(restarted) == sorted(VICTIMS)
    ports = json.loads((state / "ports.json").read_text())
    for service in ("monitoring", "scoring", "collections", "notify"):
        ready = httpx.get(f"http://127.0.0.1:{ports[service]}/readyz", trust_env=False)
        assert ready.status_code == 200, (service, ready.text)

    acked = {**client.acked, **load.acked}
    sure = set(acked)
    deadline = time.monotonic() + 60
    while True:
        found = everywhere(state)
        loans = {int(i[5:]) for i in found["monitoring loans"]}
        heard = [{int(i[5:]) for i in ids} for name, ids in found.items() if "loans" in name]
        if all(loans <= numbers for numbers in heard):
            break
        assert time.monotonic() < deadline, found
        time.sleep(1.0)
    for name, ids in found.items():
        numbers = [int(i[5:]) for i in ids]
        assert len(numbers) == len(set(numbers)), f"{name}: a booking twice"
        assert sure <= set(numbers) <= set(acked), name
        if "loans" in name:
            assert set(numbers) == loans, f"{name} and monitoring disagree"
    assert client.lost + load.lost == []  # nothing answered 201 was lost

    # A runner that dies without its finally (a test's runner.kill()) leaves the servers:
    # the next run, or the fixture's sweep, ends what its processes.json lists.
    servers = [psutil.Process(pid_of(state, s)) for s in ("postgres", "nats")]
    runner.kill()
    runner.wait()
    assert all(p.is_running() for p in servers)
    assert {"nats", "postgres"} <= set(sweep(state))  # apps still shutting down may be too
    _, alive = psutil.wait_procs(servers, timeout=10)
    assert alive == []
