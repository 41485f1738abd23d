import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from devstack.reaper import AlreadyRunning, Registry, record


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A process in its own session that would run for a minute (a leftover server)."""
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def write_processes(path: Path, *entries: dict[str, object]) -> None:
    path.write_text(json.dumps(list(entries)))


def test_a_dead_runners_leftovers_are_ended_by_the_next_one(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    path = tmp_path / "processes.json"
    leftover = record("nats", sleeper.pid)
    write_processes(
        path,
        {"name": "runner", "pid": dead_pid(), "started": 1.0, "stop_signal": 15},
        {**vars(leftover)},
    )

    swept = Registry(path).claim()

    assert swept == ["nats"]
    assert leftover.process() is None


def test_a_process_that_only_reuses_a_recorded_pid_is_left_alone(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    path = tmp_path / "processes.json"
    started = psutil.Process(sleeper.pid).create_time()
    write_processes(path, {"name": "postgres", "pid": sleeper.pid, "started": started - 100})

    assert Registry(path).claim() == []
    assert sleeper.poll() is None


def test_a_live_runner_keeps_its_state_folder(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    path = tmp_path / "processes.json"
    write_processes(path, {**vars(record("runner", sleeper.pid))})

    with pytest.raises(AlreadyRunning, match=str(sleeper.pid)):
        Registry(path).claim()


def test_the_registry_lists_the_runner_and_what_it_started(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "processes.json")
    registry.claim()
    registry.add(record("gateway", os.getpid()))

    names = [e["name"] for e in json.loads((tmp_path / "processes.json").read_text())]

    assert names == ["runner", "gateway"]
    registry.release()
    assert not (tmp_path / "processes.json").exists()
