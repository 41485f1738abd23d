"""The Kubernetes overlays, as rendered: they keep the platform's promises in each environment."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack.config import COMPONENTS
from k8s_render import K8S, OVERLAYS, Doc, documents_of

SERVICES = [c for c in COMPONENTS if c.name != "gateway"]


def of_kind(documents: list[Doc], kind: str) -> list[Doc]:
    return [doc for doc in documents if doc["kind"] == kind]


def named(documents: list[Doc], kind: str, name: str) -> Doc:
    return next(d for d in of_kind(documents, kind) if d["metadata"]["name"] == name)


def container_of(deployment: Doc) -> Doc:
    containers: list[Doc] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(deployment: Doc) -> dict[str, Doc]:
    return {item["name"]: item for item in container_of(deployment)["env"]}


@pytest.fixture
def documents(manifests: dict[str, list[Doc]], overlay: str) -> list[Doc]:
    return manifests[overlay]


@pytest.fixture
def production(manifests: dict[str, list[Doc]]) -> list[Doc]:
    return manifests["production"]


@pytest.fixture
def development(manifests: dict[str, list[Doc]]) -> list[Doc]:
    return manifests["development"]


@pytest.mark.parametrize("path", sorted(K8S.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_manifest_parses(path: Path) -> None:
    assert documents_of(path.read_text())


def test_the_base_lists_every_manifest_but_the_helm_values() -> None:
    base = K8S / "base"
    kustomization = documents_of((base / "kustomization.yaml").read_text())[0]
    listed = {base / name for name in kustomization["resources"]}
    files = {p for p in base.rglob("*.yaml") if p.name != "kustomization.yaml"}

    assert listed == files
    assert sorted(p.name for p in (K8S / "overlays").iterdir()) == sorted(OVERLAYS)


def test_everything_renders_into_the_postloan_namespace_with_a_pinned_image(
    documents: list[Doc],
) -> None:
    namespaced = [d for d in documents if d["kind"] != "Namespace"]
    images = {container_of(d)["image"] for d in of_kind(documents, "Deployment")}

    assert {d["metadata"]["namespace"] for d in namespaced} == {"postloan"}
    assert len(images) == 1
    assert re.fullmatch(r"[\w.-]+(/[\w.-]+)+:\d+\.\d+\.\d+", images.pop())


def test_each_component_runs_the_factory_the_embedded_stack_runs(documents: list[Doc]) -> None:
    deployments = {d["metadata"]["name"]: d for d in of_kind(documents, "Deployment")}

    assert set(deployments) == {f"postloan-{c.name}" for c in COMPONENTS}
    for component in COMPONENTS:
        command = container_of(deployments[f"postloan-{component.name}"])["command"]
        assert command[:3] == ["uvicorn", "--factory", component.app]


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
def test_each_deployment_has_probes_resources_and_a_restricted_pod(
    documents: list[Doc], component: Any
) -> None:
    deployment = named(documents, "Deployment", f"postloan-{component.name}")
    pod = deployment["spec"]["template"]["spec"]
    container = container_of(deployment)

    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    # The only writable place is an emptyDir at /tmp (the image keeps HOME and caches there).
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert "emptyDir" in pod["volumes"][0]


def test_the_pods_run_as_the_user_the_image_declares(documents: list[Doc]) -> None:
    dockerfile = (K8S.parents[1] / "Dockerfile").read_text()
    (user,) = re.findall(r"^USER (\d+):(\d+)$", dockerfile, flags=re.MULTILINE)

    for deployment in of_kind(documents, "Deployment"):
        context = deployment["spec"]["template"]["spec"]["securityContext"]
        assert (str(context["runAsUser"]), str(context["runAsGroup"])) == user


def test_the_namespace_enforces_the_restricted_pod_security_standard(
    documents: list[Doc],
) -> None:
    labels = named(documents, "Namespace", "postloan")["metadata"]["labels"]

    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
def test_each_deployment_reads_the_shared_config_and_its_own_database(
    documents: list[Doc], component: Any
) -> None:
    deployment = named(documents, "Deployment", f"postloan-{component.name}")
    env = env_of(deployment)
    secret = f"postloan-{component.name}-db-app"

    assert container_of(deployment)["envFrom"] == [{"configMapRef": {"name": "postloan-config"}}]
    assert env["POSTLOAN_SERVICE_NAME"]["value"] == component.name
    assert env["POSTLOAN_DATABASE_URL"]["value"].startswith("postgresql+asyncpg://$(DB_USER):")
    assert env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == secret


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
def test_each_deployment_has_a_service_a_disruption_budget_and_an_autoscaler(
    documents: list[Doc], component: Any
) -> None:
    name = f"postloan-{component.name}"
    deployment = named(documents, "Deployment", name)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = named(documents, "Service", name)
    budget = named(documents, "PodDisruptionBudget", name)
    autoscaler = named(documents, "HorizontalPodAutoscaler", name)

    assert service["spec"]["selector"].items() <= labels.items()
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert autoscaler["apiVersion"] == "autoscaling/v2"
    assert autoscaler["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": name,
    }
    assert autoscaler["spec"]["minReplicas"] < autoscaler["spec"]["maxReplicas"]
    (metric,) = autoscaler["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    # The autoscaler owns the count: a replicas field would be reset by every apply.
    assert "replicas" not in deployment["spec"]


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
def test_production_keeps_two_replicas_or_more_through_any_disruption(
    production: list[Doc], component: Any
) -> None:
    name = f"postloan-{component.name}"
    autoscaler = named(production, "HorizontalPodAutoscaler", name)

    assert autoscaler["spec"]["minReplicas"] >= (3 if component.name == "gateway" else 2)
    assert named(production, "PodDisruptionBudget", name)["spec"]["minAvailable"] == 1


def test_development_runs_one_replica_that_a_node_drain_may_move(
    development: list[Doc],
) -> None:
    autoscalers = of_kind(development, "HorizontalPodAutoscaler")
    budgets = of_kind(development, "PodDisruptionBudget")

    assert {(a["spec"]["minReplicas"], a["spec"]["maxReplicas"]) for a in autoscalers} == {(1, 2)}
    assert all(
        b["spec"] == {"maxUnavailable": 1, "selector": b["spec"]["selector"]} for b in budgets
    )


def test_production_mode_and_three_stream_replicas_come_from_the_config_map(
    documents: list[Doc],
) -> None:
    data = named(documents, "ConfigMap", "postloan-config")["data"]

    assert data["POSTLOAN_ENVIRONMENT"] == "production"
    assert data["POSTLOAN_STREAM_REPLICAS"] == "3"
    assert data["POSTLOAN_NATS_URL"].startswith("nats://")


def test_the_gateway_knows_every_upstream_and_takes_its_secrets_from_a_secret(
    documents: list[Doc],
) -> None:
    env = env_of(named(documents, "Deployment", "postloan-gateway"))

    for name in ("MONITORING", "SCORING", "COLLECTIONS", "NOTIFY"):
        assert env[f"POSTLOAN_UPSTREAM_{name}"]["value"] == f"http://postloan-{name.lower()}"
    assert env["POSTLOAN_JWT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "postloan-gateway"
    assert env["POSTLOAN_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "admin-password"


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
def test_every_app_takes_the_principal_secret_from_one_secret(
    documents: list[Doc], component: Any
) -> None:
    env = env_of(named(documents, "Deployment", f"postloan-{component.name}"))

    ref = env["POSTLOAN_PRINCIPAL_SECRET"]["valueFrom"]["secretKeyRef"]
    assert (ref["name"], ref["key"]) == ("postloan-principal", "principal-secret")


def test_every_production_database_is_a_replicated_cloudnativepg_cluster(
    production: list[Doc],
) -> None:
    clusters = {c["metadata"]["name"]: c["spec"] for c in of_kind(production, "Cluster")}

    assert set(clusters) == {f"postloan-{c.name}-db" for c in COMPONENTS}
    for component in COMPONENTS:
        spec = clusters[f"postloan-{component.name}-db"]
        assert spec["bootstrap"]["initdb"]["database"] == component.database
        assert spec["instances"] == 3
        assert spec["postgresql"]["synchronous"]["number"] >= 1
        assert spec["postgresql"]["synchronous"]["dataDurability"] == "required"
        assert spec["affinity"]["podAntiAffinityType"] == "required"


def test_a_development_database_is_one_instance_without_a_standby_to_wait_for(
    development: list[Doc],
) -> None:
    for cluster in of_kind(development, "Cluster"):
        assert cluster["spec"]["instances"] == 1
        assert "synchronous" not in cluster["spec"]["postgresql"]


def test_every_database_archives_its_wal_and_is_backed_up_every_night(
    documents: list[Doc],
) -> None:
    (store,) = of_kind(documents, "ObjectStore")
    backups = {
        b["spec"]["cluster"]["name"]: b["spec"] for b in of_kind(documents, "ScheduledBackup")
    }

    assert re.fullmatch(r"s3://[\w.-]+/\w+/", store["spec"]["configuration"]["destinationPath"])
    assert re.fullmatch(r"\d+d", store["spec"]["retentionPolicy"])
    for cluster in of_kind(documents, "Cluster"):
        (plugin,) = cluster["spec"]["plugins"]
        assert plugin["name"] == "barman-cloud.cloudnative-pg.io"
        assert plugin["isWALArchiver"] is True
        assert plugin["parameters"]["barmanObjectName"] == store["metadata"]["name"]
        backup = backups[cluster["metadata"]["name"]]
        assert (backup["method"], backup["pluginConfiguration"]) == (
            "plugin",
            {"name": plugin["name"]},
        )
        # CloudNativePG's schedule has six fields, seconds first.
        assert len(backup["schedule"].split()) == 6
    assert len(backups) == len(of_kind(documents, "Cluster"))


def test_the_overlays_keep_their_backups_apart(manifests: dict[str, list[Doc]]) -> None:
    paths = {
        overlay: of_kind(documents, "ObjectStore")[0]["spec"]["configuration"]["destinationPath"]
        for overlay, documents in manifests.items()
    }

    assert len(set(paths.values())) == len(OVERLAYS)


def test_only_the_gateway_is_exposed(documents: list[Doc]) -> None:
    (ingress,) = of_kind(documents, "Ingress")
    backends = {
        path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    policies = {p["metadata"]["name"]: p["spec"] for p in of_kind(documents, "NetworkPolicy")}

    assert backends == {"postloan-gateway"}
    assert all(s["spec"]["type"] == "ClusterIP" for s in of_kind(documents, "Service"))
    assert policies["apps-default-deny"]["policyTypes"] == ["Ingress", "Egress"]
    (from_gateway,) = policies["services-from-gateway"]["ingress"]
    assert from_gateway["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}
    ]
    from_outside = [
        (name, rule)
        for name, spec in policies.items()
        for rule in spec.get("ingress", [])
        if any("namespaceSelector" in peer or "ipBlock" in peer for peer in rule["from"])
    ]
    # From outside the namespace: the ingress controller to the gateway, Prometheus, the operator.
    assert {name for name, _ in from_outside} == {
        "gateway-from-ingress-controller",
        "apps-metrics-from-prometheus",
        *(f"{c.name}-database-ingress" for c in COMPONENTS),
    }


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
def test_each_app_reaches_its_own_database_and_no_other(
    documents: list[Doc], component: Any
) -> None:
    """Egress to a database pod is allowed by exactly one policy: the app's own."""
    own = f"postloan-{component.name}-db"
    databases = [
        (policy["spec"]["podSelector"]["matchLabels"], peer["podSelector"]["matchLabels"])
        for policy in of_kind(documents, "NetworkPolicy")
        for rule in policy["spec"].get("egress", [])
        for peer in rule["to"]
        if "cnpg.io/cluster" in peer.get("podSelector", {}).get("matchLabels", {})
    ]
    reached = {
        to["cnpg.io/cluster"]
        for pods, to in databases
        if pods.get("app.kubernetes.io/name") == component.name
    }
    allowed_in = named(documents, "NetworkPolicy", f"{component.name}-database-ingress")

    assert reached == {own}
    assert allowed_in["spec"]["podSelector"]["matchLabels"] == {"cnpg.io/cluster": own}
    assert allowed_in["spec"]["ingress"][0]["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": component.name}}}
    ]


def test_every_app_reaches_nats_and_dns_only_on_their_ports(documents: list[Doc]) -> None:
    policy = named(documents, "NetworkPolicy", "apps-egress-dns-and-nats")
    dns, nats = policy["spec"]["egress"]

    assert policy["spec"]["podSelector"] == {
        "matchLabels": {"app.kubernetes.io/part-of": "postloan"}
    }
    assert {p["port"] for p in dns["ports"]} == {53}
    assert nats["ports"] == [{"protocol": "TCP", "port": 4222}]


def test_nats_is_a_three_node_jetstream_cluster_that_syncs_every_write() -> None:
    values = yaml.safe_load((K8S / "nats" / "values.yaml").read_text())
    version = re.match(r"(\d+)\.(\d+)\.(\d+)", values["container"]["image"]["tag"])

    assert values["config"]["cluster"] == {"enabled": True, "replicas": 3}
    assert values["config"]["jetstream"]["fileStore"]["enabled"] is True
    assert values["config"]["jetstream"]["merge"]["sync_interval"] == "always"
    assert version is not None
    assert tuple(int(part) for part in version.groups()) >= (2, 10, 23)
