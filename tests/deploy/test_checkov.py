"""checkov finds nothing in the rendered overlays or the Dockerfile, but the waivers in the
manifests, each with its reason; it runs once for the whole module (it takes seconds).

checkov lives in its own locked environment (deploy/checks: its pins would hold back the
platform's libraries); the fixture syncs it from that lock, which is quick once it exists.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from k8s_render import K8S, OVERLAYS, ROOT, Doc

CHECKS = ROOT / "deploy" / "checks"
# A Deployment that breaks the rules our manifests keep: checkov must report it, or a clean
# report would prove nothing.
CANARY = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "canary", "namespace": "canary"},
    "spec": {
        "selector": {"matchLabels": {"app": "canary"}},
        "template": {
            "metadata": {"labels": {"app": "canary"}},
            "spec": {
                "containers": [
                    {"name": "canary", "image": "busybox", "securityContext": {"privileged": True}}
                ]
            },
        },
    },
}


def uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    assert Path(found).exists(), "uv is needed to sync deploy/checks (make uv installs it)"
    return found


def checkov_command() -> str:
    # The outer `uv run` points VIRTUAL_ENV at the workspace's environment: not this one's.
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    sync = [uv(), "sync", "--frozen", "--quiet", "--project", str(CHECKS)]
    subprocess.run(sync, check=True, env=env, capture_output=True)
    return str(CHECKS / ".venv" / "bin" / "checkov")


@pytest.fixture(scope="module")
def report(rendered: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """checkov's JSON report over both overlays, the Dockerfile and the canary, in one run."""
    folder = tmp_path_factory.mktemp("checkov")
    for overlay, path in rendered.items():
        shutil.copy(path, folder / f"{overlay}.yaml")
    shutil.copy(ROOT / "Dockerfile", folder / "Dockerfile")
    (folder / "canary.yaml").write_text(yaml.safe_dump(CANARY))
    command = [checkov_command(), "--directory", str(folder), "--output", "json"]
    # No download of Prisma Cloud's guidelines: the checks are the ones shipped in the wheel.
    command += ["--framework", "kubernetes", "dockerfile", "--skip-download"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=folder)
    parsed = json.loads(result.stdout)
    return parsed if isinstance(parsed, list) else [parsed]


def results(report: list[Any], check_type: str, kind: str, file: str) -> list[Doc]:
    (section,) = [r for r in report if r["check_type"] == check_type]
    return [c for c in section["results"].get(kind, []) if c["file_path"] == f"/{file}"]


def test_checkov_parsed_everything(report: list[Any]) -> None:
    assert {r["check_type"] for r in report} == {"kubernetes", "dockerfile"}
    assert all(r["summary"]["parsing_errors"] == 0 for r in report)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_checkov_fails_no_check_on_an_overlay(report: list[Any], overlay: str) -> None:
    failed = results(report, "kubernetes", "failed_checks", f"{overlay}.yaml")
    passed = results(report, "kubernetes", "passed_checks", f"{overlay}.yaml")

    assert [(c["check_id"], c["resource"]) for c in failed] == []
    assert len(passed) > 100


def test_checkov_fails_no_check_on_the_dockerfile(report: list[Any]) -> None:
    failed = results(report, "dockerfile", "failed_checks", "Dockerfile")

    assert [c["check_id"] for c in failed] == []
    assert results(report, "dockerfile", "passed_checks", "Dockerfile")


def test_checkov_reports_the_canarys_privileged_container(report: list[Any]) -> None:
    failed = {c["check_id"] for c in results(report, "kubernetes", "failed_checks", "canary.yaml")}

    # Privileged, escalation allowed, no probes, no limits, a floating tag, root.
    assert {"CKV_K8S_16", "CKV_K8S_20", "CKV_K8S_8", "CKV_K8S_11", "CKV_K8S_14"} <= failed


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_waiver_is_an_annotation_with_a_reason_the_readme_lists(
    report: list[Any], manifests: dict[str, list[Doc]], overlay: str
) -> None:
    skipped = results(report, "kubernetes", "skipped_checks", f"{overlay}.yaml")
    annotated = [
        tuple(value.split("=", 1))
        for doc in manifests[overlay]
        for key, value in doc["metadata"].get("annotations", {}).items()
        if key.startswith("checkov.io/skip")
    ]
    readme = (K8S / "README.md").read_text()

    assert len(skipped) == len(annotated) > 0
    for check_id, reason in annotated:
        assert len(reason.split()) >= 8, f"{check_id}: a waiver says why"
        assert re.search(rf"^\| `{check_id}` \|", readme, flags=re.MULTILINE), check_id
    assert {c["check_id"] for c in skipped} == {check_id for check_id, _ in annotated}


def test_no_waiver_is_a_blanket_one() -> None:
    """Waivers sit on the resources they excuse, never in a checkov config for everything."""
    configs = [*K8S.rglob(".checkov.y*ml"), *ROOT.glob(".checkov.y*ml")]

    assert configs == []
