"""The production manifests in deploy/k8s: they parse, and they keep the platform's promises."""

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack.config import COMPONENTS

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
Doc = dict[str, Any]


def load(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def base_documents() -> list[Doc]:
    kustomization = load(K8S / "kustomization.yaml")[0]
    return [doc for name in kustomization["resources"] for doc in load(K8S / name)]


def of_kind(kind: str) -> list[Doc]:
    return [doc for doc in base_documents() if doc["kind"] == kind]


def named(kind: str, name: str) -> Doc:
    return next(d for d in of_kind(kind) if d["metadata"]["name"] == name)


def container_of(deployment: Doc) -> Doc:
    containers: list[Doc] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(deployment: Doc) -> dict[str, Doc]:
    return {item["name"]: item for item in container_of(deployment)["env"]}


@pytest.mark.parametrize("path", sorted(K8S.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_manifest_parses(path: Path) -> None:
    assert load(path)


def test_the_base_lists_every_manifest_but_the_helm_values() -> None:
    listed = {K8S / name for name in load(K8S / "kustomization.yaml")[0]["resources"]}
    files = {p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml"}

    assert files - listed == {K8S / "nats" / "values.yaml"}


def test_each_component_runs_the_factory_the_embedded_stack_runs() -> None:
    deployments = {d["metadata"]["name"]: d for d in of_kind("Deployment")}

    assert set(deployments) == {f"postloan-{c.name}" for c in COMPONENTS}
    for component in COMPONENTS:
        command = container_of(deployments[f"postloan-{component.name}"])["command"]
        assert command[:3] == ["uvicorn", "--factory", component.app]


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
def test_each_deployment_has_probes_resources_and_a_hardened_container(component: Any) -> None:
    deployment = named("Deployment", f"postloan-{component.name}")
    pod = deployment["spec"]["template"]["spec"]
    container = container_of(deployment)

    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert deployment["spec"]["replicas"] >= 2


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
def test_each_deployment_reads_the_shared_config_and_its_own_database(component: Any) -> None:
    deployment = named("Deployment", f"postloan-{component.name}")
    env = env_of(deployment)
    secret = f"postloan-{component.name}-db-app"

    assert container_of(deployment)["envFrom"] == [{"configMapRef": {"name": "postloan-config"}}]
    assert env["POSTLOAN_SERVICE_NAME"]["value"] == component.name
    assert env["POSTLOAN_DATABASE_URL"]["value"].startswith("postgresql+asyncpg://$(DB_USER):")
    assert env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == secret


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
def test_each_deployment_has_a_service_and_a_disruption_budget(component: Any) -> None:
    name = f"postloan-{component.name}"
    labels = named("Deployment", name)["spec"]["template"]["metadata"]["labels"]
    service = named("Service", name)
    budget = named("PodDisruptionBudget", name)

    assert service["spec"]["selector"].items() <= labels.items()
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert budget["spec"]["minAvailable"] == 1


def test_production_mode_and_three_stream_replicas_come_from_the_config_map() -> None:
    data = named("ConfigMap", "postloan-config")["data"]

    assert data["POSTLOAN_ENVIRONMENT"] == "production"
    assert data["POSTLOAN_STREAM_REPLICAS"] == "3"
    assert data["POSTLOAN_NATS_URL"].startswith("nats://")


def test_the_gateway_knows_every_upstream_and_takes_its_secrets_from_a_secret() -> None:
    env = env_of(named("Deployment", "postloan-gateway"))

    for name in ("MONITORING", "SCORING", "COLLECTIONS", "NOTIFY"):
        assert env[f"POSTLOAN_UPSTREAM_{name}"]["value"] == f"http://postloan-{name.lower()}"
    assert env["POSTLOAN_JWT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "postloan-gateway"
    assert env["POSTLOAN_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "admin-password"


def test_every_database_is_a_replicated_cloudnativepg_cluster() -> None:
    clusters = {c["metadata"]["name"]: c["spec"] for c in of_kind("Cluster")}

    for component in COMPONENTS:
        spec = clusters[f"postloan-{component.name}-db"]
        assert spec["bootstrap"]["initdb"]["database"] == component.database
        assert spec["instances"] == 3
        assert spec["postgresql"]["synchronous"]["number"] >= 1


def test_only_the_gateway_is_exposed() -> None:
    (ingress,) = of_kind("Ingress")
    backends = {
        path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    policies = {p["metadata"]["name"]: p["spec"] for p in of_kind("NetworkPolicy")}

    assert backends == {"postloan-gateway"}
    assert all(s["spec"]["type"] == "ClusterIP" for s in of_kind("Service"))
    assert policies["apps-default-deny"]["policyTypes"] == ["Ingress", "Egress"]
    (from_gateway,) = policies["services-from-gateway"]["ingress"]
    assert from_gateway["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}
    ]


def test_nats_is_a_three_node_jetstream_cluster_that_syncs_every_write() -> None:
    values = load(K8S / "nats" / "values.yaml")[0]
    version = re.match(r"(\d+)\.(\d+)\.(\d+)", values["container"]["image"]["tag"])

    assert values["config"]["cluster"] == {"enabled": True, "replicas": 3}
    assert values["config"]["jetstream"]["fileStore"]["enabled"] is True
    assert values["config"]["jetstream"]["merge"]["sync_interval"] == "always"
    assert version is not None
    assert tuple(int(part) for part in version.groups()) >= (2, 10, 23)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_kustomize_renders_the_base_into_the_postloan_namespace() -> None:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, check=True
    ).stdout
    documents = [d for d in yaml.safe_load_all(rendered) if d]

    namespaced = [d for d in documents if d["kind"] != "Namespace"]
    assert {d["metadata"]["namespace"] for d in namespaced} == {"postloan"}
    images = {
        c["image"]
        for d in documents
        if d["kind"] == "Deployment"
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"registry.example.com/postloan/postloan:0.1.0"}


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
def test_every_app_takes_the_principal_secret_from_one_secret(component: Any) -> None:
    env = env_of(named("Deployment", f"postloan-{component.name}"))

    ref = env["POSTLOAN_PRINCIPAL_SECRET"]["valueFrom"]["secretKeyRef"]
    assert (ref["name"], ref["key"]) == ("postloan-principal", "principal-secret")
