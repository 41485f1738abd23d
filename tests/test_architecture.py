"""The import contracts in pyproject.toml (make lint): kept today, broken by forbidden imports."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(*, shadow: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the contracts of the real pyproject.toml; ``shadow`` goes first on the import path."""
    env = dict(os.environ)
    if shadow is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(shadow), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _shadow(tmp_path: Path, service: str, package: str, module: str, source: str) -> Path:
    """A copy of a service's package with one extra module, placed under ``tmp_path``."""
    copy = tmp_path / package
    shutil.copytree(ROOT / "services" / service / "src" / package, copy)
    (copy / module).write_text(source)
    return tmp_path


def _shadow_monitoring(tmp_path: Path, module: str, source: str) -> Path:
    return _shadow(tmp_path, "monitoring", "monitoring", module, source)


def test_the_tree_keeps_every_contract() -> None:
    result = _lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        ("domain/probe.py", "import sqlalchemy\n", "Domain modules are pure"),
        ("domain/probe.py", "from monitoring.adapters import tables\n", "Domain modules are pure"),
        (
            "entrypoints/api/probe.py",
            "from monitoring.adapters import repository\n",
            "Entrypoints reach adapters only through the service layer",
        ),
        ("service_layer/probe.py", "import scoring\n", "No service imports another"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, source: str, broken: str
) -> None:
    result = _lint_imports(shadow=_shadow_monitoring(tmp_path, module, source))
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "monitoring" in result.stdout
    assert "probe" in result.stdout
    broken_section = result.stdout.split("Broken contracts", 1)[1]
    assert broken in broken_section.replace("\n", " ")


@pytest.mark.parametrize(
    ("service", "package", "source"),
    [
        ("notify", "notify", "from pydantic import BaseModel\n"),
        ("collections", "collections_service", "from shared.types import Money\n"),
        ("collections", "collections_service", "from shared.db import Database\n"),
    ],
)
def test_the_new_domains_import_only_stdlib_events_and_compliance(
    tmp_path: Path, service: str, package: str, source: str
) -> None:
    result = _lint_imports(shadow=_shadow(tmp_path, service, package, "domain/probe.py", source))
    assert result.returncode != 0
    broken_section = result.stdout.split("Broken contracts", 1)[1].replace("\n", " ")
    assert "Collections' and notify's domains import only" in broken_section
    assert f"{package}.domain.probe" in broken_section


@pytest.mark.parametrize(
    ("service", "source", "broken"),
    [
        ("monitoring", "from shared.db import Database\n", "Monitoring's domain imports only"),
        ("monitoring", "from pydantic import BaseModel\n", "Monitoring's domain imports only"),
        ("monitoring", "import numpy\n", "Monitoring's domain imports only"),
        ("scoring", "from shared.messaging import outbox\n", "Scoring's domain imports only"),
        ("scoring", "import pandas\n", "Scoring's domain imports only"),
        ("scoring", "from scoring.training import pipeline\n", "Scoring's domain imports only"),
    ],
)
def test_monitoring_and_scoring_domains_import_only_stdlib_events_types_and_their_own(
    tmp_path: Path, service: str, source: str, broken: str
) -> None:
    result = _lint_imports(shadow=_shadow(tmp_path, service, service, "domain/probe.py", source))
    assert result.returncode != 0
    broken_section = result.stdout.split("Broken contracts", 1)[1].replace("\n", " ")
    assert broken in broken_section
    assert f"{service}.domain.probe" in broken_section


def test_scoring_domain_may_use_numpy(tmp_path: Path) -> None:
    shadow = _shadow(tmp_path, "scoring", "scoring", "domain/probe.py", "import numpy\n")
    result = _lint_imports(shadow=shadow)
    assert result.returncode == 0, result.stdout + result.stderr


def _sqlalchemy_imports(module: Path) -> list[str]:
    """What a module imports from SQLAlchemy or the driver, besides the session's type."""
    found = []
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            found += [
                a.name for a in node.names if a.name.split(".")[0] in {"sqlalchemy", "asyncpg"}
            ]
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names = {a.name for a in node.names}
            if node.module.split(".")[0] in {"sqlalchemy", "asyncpg"}:
                if node.module != "sqlalchemy.ext.asyncio" or names - {
                    "AsyncSession",
                    "AsyncConnection",
                }:
                    found.append(node.module)
            elif node.module == "shared.db" and "driver_connection" in names:
                found.append("shared.db.driver_connection")
    return found


@pytest.mark.parametrize(
    "service_layer",
    [
        ROOT / "services/monitoring/src/monitoring/service_layer",
        ROOT / "services/scoring/src/scoring/service_layer",
    ],
    ids=["monitoring", "scoring"],
)
def test_monitoring_and_scoring_keep_their_sql_in_adapters(service_layer: Path) -> None:
    # import-linter sees SQLAlchemy as one package, so the session's type (which use cases
    # pass on) and a statement look alike to it: this check tells them apart.
    offending = {
        module.name: imports
        for module in sorted(service_layer.glob("*.py"))
        if (imports := _sqlalchemy_imports(module))
    }
    assert offending == {}
