import subprocess
import sys
from pathlib import Path

import pytest

from devstack.cli import parse_args


def test_run_is_the_command_and_the_ready_timeout_can_be_raised() -> None:
    assert parse_args(["run"]).ready_timeout is None
    assert parse_args(["run", "--ready-timeout", "300"]).ready_timeout == 300.0


def test_the_demo_portfolio_is_seeded_unless_no_demo_is_given() -> None:
    assert not parse_args(["run"]).no_demo
    assert parse_args(["run", "--no-demo"]).no_demo


def test_a_command_is_required() -> None:
    with pytest.raises(SystemExit):
        parse_args([])


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("POSTLOAN_GATEWAY_PORT", "eighty", "POSTLOAN_GATEWAY_PORT must be a port number"),
        ("DEMO", "maybe", "DEMO must be 1 (seed a demo portfolio) or 0 (skip)"),
        ("DEMO_LOANS", "lots", "DEMO_LOANS must be a whole number"),
    ],
)
def test_a_bad_setting_stops_before_anything_starts_naming_the_variable(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devstack", "run"],
        cwd=tmp_path,
        env={variable: value, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert message in result.stdout
    assert not (tmp_path / ".postloan").exists()


def test_backup_and_restore_are_commands_and_restore_names_its_backup() -> None:
    assert parse_args(["backup"]).command == "backup"
    restore = parse_args(["restore", "/srv/backups/postloan-20261207T174501Z"])
    assert restore.command == "restore"
    assert restore.backup == Path("/srv/backups/postloan-20261207T174501Z")
    with pytest.raises(SystemExit):
        parse_args(["restore"])
