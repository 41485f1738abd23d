"""The Kubernetes overlays, rendered once per session (see k8s_render)."""

from pathlib import Path

import pytest

from k8s_render import K8S, OVERLAYS, Doc, documents_of, kustomize


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each overlay's rendered manifests, one file per overlay."""
    folder = tmp_path_factory.mktemp("rendered")
    files = {}
    for overlay in OVERLAYS:
        files[overlay] = folder / f"{overlay}.yaml"
        files[overlay].write_text(kustomize(K8S / "overlays" / overlay))
    return files


@pytest.fixture(scope="session")
def manifests(rendered: dict[str, Path]) -> dict[str, list[Doc]]:
    return {overlay: documents_of(path.read_text()) for overlay, path in rendered.items()}


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name
