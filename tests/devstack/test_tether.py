import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-m", "devstack.tether", str(__import__("os").getpid()),
                          "sleep", "60"])
print(child.pid, flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_tethered_command_dies_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = psutil.Process(int(parent.stdout.readline()))
    deadline = time.monotonic() + 10
    while child.name() != "sleep" and time.monotonic() < deadline:
        time.sleep(0.05)  # still the Python shim until it execs
    assert child.cmdline() == ["sleep", "60"]

    parent.kill()
    parent.wait()

    child.wait(timeout=5)


def test_a_tether_without_a_command_explains_its_use() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devstack.tether", "123"], capture_output=True, text=True
    )

    assert result.returncode == 1
    assert "usage" in result.stderr


def test_a_tether_whose_parent_is_already_gone_does_not_run_the_command(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    result = subprocess.run(
        [sys.executable, "-m", "devstack.tether", "1", "touch", str(marker)], check=False
    )

    assert result.returncode == 1
    assert not marker.exists()
