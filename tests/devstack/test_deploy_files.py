"""The systemd unit and the compose file start commands that exist, with settings that are read."""

import configparser
import re
from pathlib import Path

import yaml

from devstack.cli import parse_args

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SOURCES = [*(ROOT / "tools" / "devstack" / "src").rglob("*.py"), *ROOT.glob("*/src/*/settings.py")]


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / name)
    return parser


def settings_of(env_file: Path) -> set[str]:
    lines = env_file.read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z_]+=", line)}


def read_somewhere(name: str) -> bool:
    """Whether the stack or a service reads ``name`` (services' settings use the prefix)."""
    field = name.removeprefix("POSTLOAN_").lower()
    return any(name in p.read_text() or f"{field}:" in p.read_text() for p in SOURCES)


def test_the_units_run_existing_subcommands_of_postloan_stack() -> None:
    for name, command in (("postloan.service", "run"), ("postloan-backup.service", "backup")):
        exec_start = unit(name)["Service"]["ExecStart"].split()
        assert exec_start[0].endswith("/.venv/bin/postloan-stack")
        assert parse_args(exec_start[1:]).command == command
    assert unit("postloan-backup.timer")["Timer"]["OnCalendar"]


def test_every_setting_in_the_env_files_is_read_by_the_platform() -> None:
    for env_file in (
        DEPLOY / "systemd" / "postloan.env",
        DEPLOY / "compose" / "postloan.env.example",
    ):
        names = settings_of(env_file)
        assert "POSTLOAN_JWT_SECRET" in names
        assert [n for n in names if not read_somewhere(n)] == []


def test_the_compose_service_keeps_its_state_in_a_volume_and_publishes_only_the_gateway() -> None:
    compose = yaml.safe_load((DEPLOY / "compose" / "docker-compose.yml").read_text())
    service = compose["services"]["postloan"]
    assert service["environment"]["POSTLOAN_STATE_DIR"] == "/var/lib/postloan"
    assert service["volumes"] == ["postloan-state:/var/lib/postloan"]
    assert len(service["ports"]) == 1
    assert "readyz" in " ".join(service["healthcheck"]["test"])


def test_compose_builds_the_one_image_from_the_root_dockerfile() -> None:
    """The image's default command is the embedded stack (tests/deploy/test_dockerfile.py)."""
    build = yaml.safe_load((DEPLOY / "compose" / "docker-compose.yml").read_text())["services"][
        "postloan"
    ]["build"]
    context = (DEPLOY / "compose" / build["context"]).resolve()

    assert context == ROOT
    assert (context / build["dockerfile"]) == ROOT / "Dockerfile"
    assert (ROOT / "Dockerfile").exists()
