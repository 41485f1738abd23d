"""Every rendered resource is valid: core kinds for kubernetes-validate --strict, custom resources
for the schema of their operator's CRD (tests/deploy/crds), unknown fields refused by both."""

import copy
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from k8s_render import Doc, venv_tool

CRDS = Path(__file__).parent / "crds"


def kubernetes_validate(path: Path) -> subprocess.CompletedProcess[str]:
    command = [venv_tool("kubernetes-validate"), "--strict", "--quiet", str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def strict(schema: Any) -> Any:
    """The schema with unknown fields refused, as the API server's strict field validation does.

    A CRD's structural schema lists every field; where it keeps unknown ones on purpose
    (``x-kubernetes-preserve-unknown-fields``, or ``additionalProperties`` given) it is left so.
    """
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    tightened = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        tightened["additionalProperties"] = False
    return tightened


def crd_validators() -> dict[tuple[str, str], jsonschema.Draft7Validator]:
    """(apiVersion, kind) to a validator of the served version's openAPIV3Schema."""
    validators: dict[tuple[str, str], jsonschema.Draft7Validator] = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            key = (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
            schema = strict(version["schema"]["openAPIV3Schema"])
            validators[key] = jsonschema.Draft7Validator(schema)
    return validators


VALIDATORS = crd_validators()


def crd_errors(document: Doc) -> list[str]:
    validator = VALIDATORS[(document["apiVersion"], document["kind"])]
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def unknown_kinds(output: str) -> set[str]:
    """The kinds kubernetes-validate had no schema for (it warns and does not check them)."""
    warnings = [line for line in output.splitlines() if "Couldn't find schema for kind" in line]
    return {line.split(" for kind ")[1].split(" for kubernetes")[0] for line in warnings}


def test_kubernetes_validate_strict_passes_every_core_resource(
    rendered: dict[str, Path], overlay: str
) -> None:
    result = kubernetes_validate(rendered[overlay])

    assert result.returncode == 0, result.stdout + result.stderr
    # Only the operators' kinds may go unchecked here: they are checked below against their CRDs.
    # A core kind with a mistyped apiVersion would also land here, and fail this.
    assert unknown_kinds(result.stdout + result.stderr) == {
        f"{kind} with api version {api}" for api, kind in VALIDATORS
    }


def test_kubernetes_validate_strict_refuses_an_unknown_field(tmp_path: Path) -> None:
    path = tmp_path / "service.yaml"
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {}}
    service["spec"] = {"ports": [{"port": 80, "targetPrt": 8000}]}
    path.write_text(yaml.safe_dump(service))

    result = kubernetes_validate(path)

    assert result.returncode != 0
    assert "targetPrt" in result.stdout + result.stderr


def test_every_custom_resource_matches_its_crd_schema(
    manifests: dict[str, list[Doc]], overlay: str
) -> None:
    custom = [d for d in manifests[overlay] if (d["apiVersion"], d["kind"]) in VALIDATORS]
    errors = {f"{d['kind']}/{d['metadata']['name']}": crd_errors(d) for d in custom}

    assert {kind for _, kind in VALIDATORS} == {d["kind"] for d in custom}
    assert {name: e for name, e in errors.items() if e} == {}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("spec", "instancez"), 3),  # a misspelt field
        (("spec", "postgresql", "synchronous", "method"), "all"),  # not one of any, first
        (("spec", "instances"), "3"),  # a string for an integer
    ],
    ids=["unknown field", "value not allowed", "wrong type"],
)
def test_the_crd_schemas_refuse_a_broken_cluster(
    manifests: dict[str, list[Doc]], path: tuple[str, ...], value: object
) -> None:
    cluster = copy.deepcopy(next(d for d in manifests["production"] if d["kind"] == "Cluster"))
    parent = cluster
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value

    assert crd_errors(cluster)
