"""The AsyncAPI 3.0.0 document of the whole event catalogue, generated from :mod:`shared.events`.

One channel per NATS subject, one message per event type (the CloudEvents envelope with the
payload's JSON schema as ``data``), a ``receive`` operation for each ingest event (other systems
send it) and a ``send`` operation for each internal event (its producer service sends it).
``python -m shared.asyncapi`` prints the YAML; ``make asyncapi`` writes ``docs/asyncapi.yaml``,
and a test keeps that file equal to a fresh generation.
"""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel

from shared.events import CATALOGUE, CloudEvent, EventSpec
from shared.messaging.bus import DEAD_LETTER_PREFIX, DEAD_LETTER_STREAM, DUPLICATE_WINDOW_S
from shared.settings import ServiceSettings

ASYNCAPI_VERSION = "3.0.0"
SCHEMAS = "#/components/schemas/"
CONTENT_TYPE = "application/cloudevents+json"
#: Attributes CloudEvents 1.0 requires, plus ``data``: what a producer must always send.
REQUIRED_ATTRIBUTES = ["specversion", "id", "type", "source", "data"]
DEAD_LETTER_CHANNEL = "postloan.deadletter"

Doc = dict[str, Any]

_WINDOW = int(DUPLICATE_WINDOW_S)
_MAX_DELIVERIES = ServiceSettings.model_fields["consumer_max_deliveries"].default
_LOCAL_NATS_PORT = str(urlsplit(ServiceSettings.model_fields["nats_url"].default).port)

DESCRIPTION = f"""\
Every event between PostLoan and the systems around it, and between PostLoan's services.

- **Envelope.** CloudEvents 1.0 in JSON structured mode. `type` is
  `postloan.<domain>.<name>.v<version>`; the event is published on the NATS subject
  `postloan.<domain>.<name>`, kept by the JetStream stream `POSTLOAN_<DOMAIN>` (file storage).
  Money is a string (`"1234.50"`), dates and timestamps are ISO 8601.
- **Idempotent on `id`.** The `Nats-Msg-Id` header equals the envelope's `id`: JetStream
  drops a duplicate inside its {_WINDOW}-second window, and every consumer records the ids it has
  applied in its own database (inbox) in the same transaction as the effect, so an event
  delivered again changes nothing. A producer that retries reuses the `id`.
- **At-least-once delivery.** Durable pull consumers acknowledge explicitly; a consumer may see
  an event more than once and must not rely on anything else to deduplicate. Internal events
  are published from a transactional outbox in the order they were recorded.
- **Dead letters.** An event that cannot be parsed, has an unknown `type` or a wrong `data`,
  or still fails after {_MAX_DELIVERIES} deliveries (`POSTLOAN_CONSUMER_MAX_DELIVERIES`), is copied
  unchanged to the stream `{DEAD_LETTER_STREAM}` on `{DEAD_LETTER_PREFIX}.<consumer>` with the
  error in the `Postloan-Error` header, and terminated so that it no longer blocks the events
  behind it.
- **Tracing.** W3C `traceparent` travels both as a NATS header and as the envelope's
  `traceparent` extension attribute.
"""


def _header(description: str, **schema: Any) -> Doc:
    return {"type": "string", "description": description, **schema}


NATS_HEADERS: Doc = {
    "type": "object",
    "properties": {
        "Nats-Msg-Id": _header(
            "The envelope's `id`: JetStream's deduplication key.", format="uuid"
        ),
        "traceparent": _header(
            "W3C trace context of the span that emitted the event.",
            pattern="^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
        ),
    },
    "required": ["Nats-Msg-Id"],
}
DEAD_LETTER_HEADERS: Doc = {
    "type": "object",
    "properties": {
        "Nats-Msg-Id": _header("`<consumer>:<stream>:<stream sequence>` of the original."),
        "Postloan-Error": _header("Why the event was given up (one line, bounded)."),
        "Postloan-Consumer": _header("The durable consumer that gave up."),
        "Postloan-Original-Subject": _header("The subject the event was published on."),
        "Postloan-Deliveries": _header("How many times it was delivered.", pattern="^[0-9]+$"),
    },
    "required": [
        "Nats-Msg-Id",
        "Postloan-Error",
        "Postloan-Consumer",
        "Postloan-Original-Subject",
        "Postloan-Deliveries",
    ],
}


def _json_schemas() -> dict[str, Doc]:
    """Envelope and payload schemas by name, with ``$defs`` hoisted into one namespace."""
    schemas: dict[str, Doc] = {}
    models: list[type[BaseModel]] = [CloudEvent, *dict.fromkeys(s.payload for s in CATALOGUE)]
    for model in models:
        schema = model.model_json_schema(mode="serialization", ref_template=SCHEMAS + "{model}")
        for name, sub in [*schema.pop("$defs", {}).items(), (model.__name__, schema)]:
            if schemas.setdefault(name, sub) != sub:
                raise ValueError(f"two different schemas are both named {name!r}")
    schemas["CloudEvent"]["required"] = list(REQUIRED_ATTRIBUTES)
    schemas["NatsHeaders"] = NATS_HEADERS
    schemas["DeadLetterHeaders"] = DEAD_LETTER_HEADERS
    return dict(sorted(schemas.items()))


def _message(spec: EventSpec) -> Doc:
    envelope = {
        "type": "object",
        "properties": {
            "type": {"const": spec.type},
            "data": {"$ref": SCHEMAS + spec.payload.__name__},
        },
    }
    return {
        "name": spec.type,
        "title": spec.payload.__name__,
        "summary": spec.summary,
        "contentType": CONTENT_TYPE,
        "headers": {"$ref": SCHEMAS + "NatsHeaders"},
        "payload": {"allOf": [{"$ref": SCHEMAS + "CloudEvent"}, envelope]},
    }


def _operation(action: str, channel: str, messages: list[str], summary: str, tag: str) -> Doc:
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "summary": summary,
        "tags": [{"name": tag}],
        "messages": [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in messages],
    }


def _operation_of(spec: EventSpec) -> tuple[str, Doc]:
    """Ingest events are received by PostLoan; internal events are sent by their producer."""
    if spec.domain == "ingest":
        action, who = "receive", f"Sent by {spec.producer}, received by PostLoan."
    else:
        action, who = "send", f"Sent by the {spec.producer} service through its outbox."
    summary = f"{spec.summary} {who}"
    return f"{action}.{spec.subject}", _operation(action, spec.subject, [], summary, spec.domain)


def _dead_letters() -> tuple[Doc, Doc, Doc]:
    channel = {
        "address": DEAD_LETTER_PREFIX + ".{consumer}",
        "description": f"Kept by the stream `{DEAD_LETTER_STREAM}`.",
        "parameters": {"consumer": {"description": "Durable name of the consumer that gave up."}},
        "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
    }
    message = {
        "name": "DeadLetter",
        "summary": "An event a consumer gave up on: its original body, unchanged.",
        "contentType": "application/octet-stream",
        "headers": {"$ref": SCHEMAS + "DeadLetterHeaders"},
        "payload": {"description": "The original message body, which may not even be JSON."},
    }
    operation = _operation(
        "send", DEAD_LETTER_CHANNEL, ["DeadLetter"], "Sent by any PostLoan consumer.", "deadletter"
    )
    return channel, message, operation


def build() -> Doc:
    """The AsyncAPI document as plain data, keys in a fixed order."""
    channels: dict[str, Doc] = {}
    messages: dict[str, Doc] = {}
    operations: dict[str, Doc] = {}
    for spec in CATALOGUE:
        channel = channels.setdefault(
            spec.subject,
            {"address": spec.subject, "description": f"Kept by the stream `{spec.stream}`."},
        )
        channel.setdefault("messages", {})[spec.type] = {
            "$ref": f"#/components/messages/{spec.type}"
        }
        messages[spec.type] = _message(spec)
        operation_id, operation = _operation_of(spec)
        operation = operations.setdefault(operation_id, operation)
        operation["messages"].append({"$ref": f"#/channels/{spec.subject}/messages/{spec.type}"})
    dl_channel, messages["DeadLetter"], dl_operation = _dead_letters()
    channels[DEAD_LETTER_CHANNEL] = dl_channel
    operations[f"send.{DEAD_LETTER_CHANNEL}"] = dl_operation
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": "PostLoan events", "version": "1.0.0", "description": DESCRIPTION},
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "local": {
                "host": "127.0.0.1:{port}",
                "protocol": "nats",
                "description": "The embedded NATS JetStream of `make run`.",
                "variables": {
                    "port": {
                        "default": _LOCAL_NATS_PORT,
                        "description": "The port that `make run` prints (never 4222).",
                    }
                },
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": _json_schemas(), "messages": messages},
    }


def _str(dumper: Any, value: str) -> Any:
    """Multi-line strings as literal blocks, so that the description reads as written."""
    return dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None
    )


def render() -> str:
    """The document as YAML text: what ``docs/asyncapi.yaml`` must contain."""
    dumper: Any = type("_Dumper", (yaml.SafeDumper,), {"ignore_aliases": lambda *_: True})
    dumper.add_representer(str, _str)
    header = "# Generated from shared/src/shared/events.py by `make asyncapi`: do not edit.\n"
    body: str = yaml.dump(build(), Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)
    return header + body


def main() -> None:
    sys.stdout.buffer.write(render().encode())


if __name__ == "__main__":
    main()
