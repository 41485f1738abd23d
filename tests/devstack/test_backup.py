"""A backup of a running stack with data restores into a fresh state folder, which then runs."""

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from stack_runs import (
    PASSWORD,
    Client,
    Stacks,
    fresh_environment,
    rows,
    stack_command,
    wait_until_up,
)

from devstack.backup import BackupSettings, backup_name, backups_in, prune
from devstack.config import ConfigError
from devstack.embedded import free_port

#: What each database knows of the booked loans and payments.
QUERIES = (
    ("postloan_monitoring", "SELECT loan_id || ' ' || principal || ' ' || status FROM loan"),
    ("postloan_monitoring", "SELECT payment_id || ' ' || amount FROM payment"),
    ("postloan_monitoring", "SELECT payment_id || ' ' || principal FROM allocation"),
    ("postloan_scoring", "SELECT loan_id FROM loan_terms"),
    ("postloan_scoring", "SELECT payment_id FROM allocation"),
    ("postloan_collections", "SELECT loan_id FROM loan_ref"),
)


def postloan_stack(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [*stack_command()[:-1], *args]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def contents(state: Path) -> list[list[str]]:
    return [sorted(rows(state, db, query)) for db, query in QUERIES]


def settled(state: Path, loans: int, timeout_s: float = 60.0) -> list[list[str]]:
    """The contents once every database has heard of every loan (events take a moment)."""
    deadline = time.monotonic() + timeout_s
    while True:
        seen = contents(state)
        if all(len(found) >= loans for found in seen):
            return seen
        assert time.monotonic() < deadline, seen
        time.sleep(0.5)


def start(
    stacks: Stacks, tmp_path: Path, state: Path, name: str
) -> tuple[subprocess.Popen[bytes], str]:
    port, output = free_port(), tmp_path / f"{name}.out"
    env = fresh_environment(state, port, DEMO="0", POSTLOAN_ADMIN_PASSWORD=PASSWORD)
    with output.open("wb") as sink:
        runner = subprocess.Popen(
            stack_command(), cwd=tmp_path, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    stacks.track(runner, state)
    wait_until_up(runner, f"http://127.0.0.1:{port}/readyz", output)
    return runner, f"http://127.0.0.1:{port}"


def stop(runner: subprocess.Popen[bytes]) -> None:
    runner.send_signal(2)
    assert runner.wait(timeout=90) == 0


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_backup_of_a_running_stack_restores_into_a_fresh_folder_that_runs(
    tmp_path: Path, stacks: Stacks
) -> None:
    state, fresh, backups = tmp_path / "state", tmp_path / "fresh", tmp_path / "backups"
    runner, url = start(stacks, tmp_path, state, "first")
    client = Client(url)
    client.login()
    for n in range(1, 6):
        client.book(n)
    settled(state, 5)
    env = fresh_environment(state, 8000, POSTLOAN_BACKUP_DIR=str(backups))

    taken = postloan_stack("backup", env=env, cwd=tmp_path)  # while it runs

    assert taken.returncode == 0, taken.stdout + taken.stderr
    assert runner.poll() is None
    (backup,) = backups_in(backups)
    assert f"written to {backup}" in taken.stdout
    manifest = json.loads((backup / "manifest.json").read_text())
    assert sorted(manifest["databases"]) == sorted(
        ["monitoring", "scoring", "collections", "notify", "gateway"]
    )
    before = contents(state)
    stop(runner)
    keep_one = {**env, "POSTLOAN_BACKUP_KEEP": "1"}
    time.sleep(1.0)  # backups are named by the second

    again = postloan_stack("backup", env=keep_one, cwd=tmp_path)  # of the stopped platform

    assert again.returncode == 0, again.stdout + again.stderr
    (backup,) = backups_in(backups)  # the first one went: only one is kept
    assert f"written to {backup}" in again.stdout
    assert not (state / "processes.json").exists()  # its PostgreSQL came and went

    restored = postloan_stack(
        "restore", str(backup), env={**env, "POSTLOAN_STATE_DIR": str(fresh)}, cwd=tmp_path
    )

    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "restored postloan_collections, postloan_gateway" in restored.stdout
    runner, url = start(stacks, tmp_path, fresh, "restored")
    assert settled(fresh, 5) == before
    client = Client(url)
    client.login()
    client.book(6)  # the restored platform carries on
    assert len(rows(fresh, "postloan_monitoring", "SELECT loan_id FROM loan")) == 6
    stop(runner)


def test_a_backup_is_named_by_its_utc_time_and_the_oldest_beyond_the_limit_go(
    tmp_path: Path,
) -> None:
    when = datetime(2026, 12, 7, 17, 45, 1, tzinfo=UTC)
    assert backup_name(when) == "postloan-20261207T174501Z"
    for day in range(1, 5):
        (tmp_path / backup_name(when.replace(day=day))).mkdir()
    (tmp_path / "postloan-20261209T000000Z.partial").mkdir()

    gone = prune(tmp_path, keep=2)

    assert [p.name for p in gone] == ["postloan-20261201T174501Z", "postloan-20261202T174501Z"]
    assert [p.name for p in backups_in(tmp_path)] == [
        "postloan-20261203T174501Z",
        "postloan-20261204T174501Z",
    ]


def test_backup_settings_come_from_the_environment(tmp_path: Path) -> None:
    settings = BackupSettings.from_env({}, tmp_path)
    assert (settings.backup_dir, settings.keep) == (tmp_path / "backups", 7)
    given = BackupSettings.from_env({"POSTLOAN_BACKUP_KEEP": "3"}, tmp_path)
    assert given.keep == 3
    with pytest.raises(ConfigError, match="POSTLOAN_BACKUP_KEEP"):
        BackupSettings.from_env({"POSTLOAN_BACKUP_KEEP": "0"}, tmp_path)


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    env = fresh_environment(tmp_path / "state", 8000)
    done = postloan_stack("restore", str(tmp_path), env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert "is not a backup (it has no manifest.json)" in done.stdout
    assert sys.executable
