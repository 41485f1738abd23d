"""The platform's one image, checked without a Docker engine: hadolint, the stages' contents, the
build context, and the health check's command run for real against a local server."""

import glob
import json
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from devstack.cli import parse_args
from k8s_render import ROOT, venv_tool

DOCKERFILE = ROOT / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [
        (word.upper(), rest.strip())
        for word, _, rest in (line.strip().partition(" ") for line in joined.splitlines())
        if word
    ]


def stages() -> dict[str, list[tuple[str, str]]]:
    """The build's stages by name: each FROM ... AS <name> and the instructions after it."""
    found: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for instruction, arguments in instructions(DOCKERFILE.read_text()):
        if instruction == "FROM":
            current = found.setdefault(arguments.split()[-1], [])
        current.append((instruction, arguments))
    return found


def arguments_of(stage: list[tuple[str, str]], instruction: str) -> list[str]:
    return [arguments for name, arguments in stage if name == instruction]


def workspace_members() -> list[str]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = root["tool"]["uv"]["workspace"]["members"]
    return sorted(
        str(Path(path).relative_to(ROOT))
        for pattern in patterns
        for path in glob.glob(str(ROOT / pattern))
        if (Path(path) / "pyproject.toml").exists()
    )


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    command = [venv_tool("hadolint"), "--no-color", str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    result = hadolint(DOCKERFILE)

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_hadolint_reports_an_unpinned_base_and_root_user(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install uv\n")

    result = hadolint(bad)

    assert result.returncode != 0
    assert {"DL3006", "DL3013"} <= set(re.findall(r"DL\d{4}", result.stdout))


def test_the_dependency_layer_sees_every_workspace_members_project_file() -> None:
    build = stages()["build"]
    copies = arguments_of(build, "COPY")
    runs = arguments_of(build, "RUN")
    dependency_sync = next(i for i, run in enumerate(build) if "--no-install-workspace" in run[1])
    copied_before = {
        a for i, (name, a) in enumerate(build) if name == "COPY" and i < dependency_sync
    }

    for member in workspace_members():
        assert f"{member}/pyproject.toml {member}/" in copied_before, member
    assert "pyproject.toml uv.lock ./" in copies
    assert any("uv sync --frozen --no-dev --no-editable" in run for run in runs)


def test_the_image_installs_the_platform_without_the_test_tools() -> None:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    syncs = [run for run in arguments_of(stages()["build"], "RUN") if "uv sync" in run]

    # Without --all-packages, `uv sync` installs the root project's dependencies only.
    assert all("--all-packages" not in run and "--no-dev" in run for run in syncs)
    assert "postloan-testing" not in root["project"]["dependencies"]
    assert {"postloan-gateway", "postloan-devstack"} <= set(root["project"]["dependencies"])


def test_the_runtime_stage_is_the_venv_an_unprivileged_user_and_a_health_check() -> None:
    all_stages = stages()
    runtime = all_stages["runtime"]
    copies = arguments_of(runtime, "COPY")
    environment = " ".join(arguments_of(runtime, "ENV"))

    assert list(all_stages)[-1] == "runtime"
    assert copies == ["--from=build /opt/postloan/.venv /opt/postloan/.venv"]
    assert arguments_of(runtime, "USER") == ["10001:10001"]
    assert "PATH=/opt/postloan/.venv/bin:$PATH" in environment
    # Read-only root file system: no bytecode written at run time (compiled at build time).
    assert "PYTHONDONTWRITEBYTECODE=1" in environment
    assert "HOME=/tmp" in environment
    assert "UV_COMPILE_BYTECODE=1" in " ".join(arguments_of(all_stages["build"], "ENV"))
    assert len(arguments_of(runtime, "HEALTHCHECK")) == 1


def test_the_default_command_is_the_embedded_stack() -> None:
    (command,) = arguments_of(stages()["runtime"], "CMD")
    argv = json.loads(command)

    assert argv[0] == "postloan-stack"
    assert parse_args(argv[1:]).command == "run"


def test_the_build_context_keeps_local_state_out_and_every_member_in() -> None:
    ignored = [
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    assert {"**/.venv", ".postloan", ".git"} <= set(ignored)
    for member in workspace_members():
        assert not any(member == p or member.startswith(f"{p}/") for p in ignored), member


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/readyz" else 503)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads exit codes."""


@pytest.fixture
def health_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run_health_check(url: str) -> int:
    (healthcheck,) = arguments_of(stages()["runtime"], "HEALTHCHECK")
    argv = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert argv[0] == "python"
    environment = {"POSTLOAN_HEALTH_URL": url}
    command = [sys.executable, *argv[1:]]
    return subprocess.run(command, env=environment, capture_output=True, check=False).returncode


def test_the_health_check_passes_on_a_ready_component_and_fails_otherwise(
    health_server: str,
) -> None:
    assert run_health_check(f"{health_server}/readyz") == 0
    assert run_health_check(f"{health_server}/not-ready") != 0
