import subprocess
import sys
from pathlib import Path

import pytest

from devstack.cli import parse_args


def test_run_is_the_command_and_the_ready_timeout_can_be_raised() -> None:
    assert parse_args(["run"]).ready_timeout is None
    assert parse_args(["run", "--ready-timeout", "300"]).ready_timeout == 300.0


def test_a_command_is_required() -> None:
    with pytest.raises(SystemExit):
        parse_args([])


def test_a_bad_setting_stops_before_anything_starts_naming_the_variable(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devstack", "run"],
        cwd=tmp_path,
        env={"POSTLOAN_GATEWAY_PORT": "eighty", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert "POSTLOAN_GATEWAY_PORT must be a port number" in result.stdout
    assert not (tmp_path / ".postloan").exists()
