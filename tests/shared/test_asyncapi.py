"""``docs/asyncapi.yaml`` is generated from the event catalogue and is a sound AsyncAPI 3 document.

No well-kept AsyncAPI 3 validator exists for Python, so the structure is checked here: the
fields each object may have, references that resolve, and the spec's cross-object rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.asyncapi import build, main, render
from shared.events import CATALOGUE, EventSpec

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"
COMPONENT_KEY = re.compile(r"^[a-zA-Z0-9.\-_]+$")

#: The fixed fields of the AsyncAPI 3.0.0 objects this document uses.
FIELDS = {
    "document": {
        "asyncapi",
        "id",
        "info",
        "servers",
        "defaultContentType",
        "channels",
        "operations",
        "components",
    },
    "info": {
        "title",
        "version",
        "description",
        "termsOfService",
        "contact",
        "license",
        "tags",
        "externalDocs",
    },
    "server": {
        "host",
        "protocol",
        "protocolVersion",
        "pathname",
        "description",
        "title",
        "summary",
        "variables",
        "security",
        "tags",
        "externalDocs",
        "bindings",
    },
    "channel": {
        "address",
        "messages",
        "title",
        "summary",
        "description",
        "servers",
        "parameters",
        "tags",
        "externalDocs",
        "bindings",
    },
    "operation": {
        "action",
        "channel",
        "title",
        "summary",
        "description",
        "security",
        "tags",
        "externalDocs",
        "bindings",
        "traits",
        "messages",
        "reply",
    },
    "message": {
        "headers",
        "payload",
        "correlationId",
        "contentType",
        "name",
        "title",
        "summary",
        "description",
        "tags",
        "externalDocs",
        "bindings",
        "examples",
        "traits",
    },
}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(render())
    return loaded


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(doc: dict[str, Any], ref: str) -> Any:
    """The node a local JSON pointer reference names; ``KeyError`` when there is none."""
    if not ref.startswith("#/"):
        raise KeyError(ref)
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_the_committed_document_equals_a_fresh_generation() -> None:
    committed = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else ""
    if committed != render():
        pytest.fail(
            "docs/asyncapi.yaml differs from shared/events.py: run `make asyncapi`", pytrace=False
        )


def test_the_yaml_reads_back_as_the_generated_document(doc: dict[str, Any]) -> None:
    assert doc == build()


def test_it_declares_asyncapi_3_0_0(doc: dict[str, Any]) -> None:
    assert doc["asyncapi"] == "3.0.0"


def test_running_the_module_prints_the_document(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    main()
    assert capsysbinary.readouterr().out.decode() == render()


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda spec: spec.type)
def test_every_catalogue_entry_has_a_channel_a_message_and_an_operation(
    doc: dict[str, Any], spec: EventSpec
) -> None:
    channel = doc["channels"][spec.subject]
    assert channel["address"] == spec.subject
    assert (
        resolve(doc, channel["messages"][spec.type]["$ref"])
        is doc["components"]["messages"][spec.type]
    )
    envelope = doc["components"]["messages"][spec.type]["payload"]["allOf"][1]["properties"]
    assert envelope["type"] == {"const": spec.type}
    data = resolve(doc, envelope["data"]["$ref"])
    assert set(data["properties"]) == set(spec.payload.model_fields)
    action = "receive" if spec.domain == "ingest" else "send"
    operation = doc["operations"][f"{action}.{spec.subject}"]
    assert operation["action"] == action
    assert {"$ref": f"#/channels/{spec.subject}/messages/{spec.type}"} in operation["messages"]


def test_every_ref_resolves_inside_the_document(doc: dict[str, Any]) -> None:
    unresolved = []
    for ref in refs(doc):
        try:
            resolve(doc, ref)
        except (KeyError, TypeError):
            unresolved.append(ref)
    assert unresolved == []


def test_every_object_has_only_the_fields_asyncapi_3_defines(doc: dict[str, Any]) -> None:
    objects = [("document", doc), ("info", doc["info"])]
    objects += [("server", s) for s in doc["servers"].values()]
    objects += [("channel", c) for c in doc["channels"].values()]
    objects += [("operation", o) for o in doc["operations"].values()]
    objects += [("message", m) for m in doc["components"]["messages"].values()]
    unknown = [(kind, sorted(set(obj) - FIELDS[kind])) for kind, obj in objects]
    assert [(kind, extra) for kind, extra in unknown if extra] == []
    assert {"title", "version"} <= set(doc["info"])
    assert all({"host", "protocol"} <= set(s) for s in doc["servers"].values())


def test_component_keys_follow_the_spec_pattern(doc: dict[str, Any]) -> None:
    keys = [key for section in doc["components"].values() for key in section]
    assert [key for key in keys if not COMPONENT_KEY.match(key)] == []


def test_operations_name_messages_of_their_own_channel(doc: dict[str, Any]) -> None:
    for operation in doc["operations"].values():
        assert operation["action"] in {"send", "receive"}
        channel = operation["channel"]["$ref"]
        assert operation["messages"]
        assert all(m["$ref"].startswith(f"{channel}/messages/") for m in operation["messages"])


def test_channel_parameters_match_the_address_expressions(doc: dict[str, Any]) -> None:
    for channel in doc["channels"].values():
        expressions = set(re.findall(r"\{([^}]+)\}", channel["address"]))
        assert expressions == set(channel.get("parameters", {}))
