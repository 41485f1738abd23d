"""The CloudEvents envelope, defined once: its attributes, their order and their formats.

Events are written by three kinds of producer, and each takes the envelope from here:

- the outbox's Python path, :func:`shared.events.make_event`, whose :class:`CloudEvent` model
  declares :data:`KEYS` in order with the types below;
- bulk writers that assemble bodies themselves (the import's COPY path), from
  :func:`template`;
- set-based SQL (end of day), from :func:`sql_envelope` and :func:`sql_params`.

All three write compact JSON (no spaces), the keys in the order of :data:`KEYS`, ``id`` as a
lower-case hyphenated UUID, ``time`` in RFC 3339 with ``Z`` for UTC, ``source`` as
``postloan/<service>``, ``subject`` as given and ``traceparent`` as W3C writes it, or ``null``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Final

from pydantic import AwareDatetime, Field, PlainSerializer, WithJsonSchema

SPECVERSION: Final = "1.0"
DATACONTENTTYPE: Final = "application/json"
#: The attributes of an envelope, in the order every producer writes them (``data`` last).
KEYS: tuple[str, ...] = (
    "specversion",
    "id",
    "type",
    "source",
    "time",
    "subject",
    "datacontenttype",
    "traceparent",
    "data",
)
TYPE_PATTERN = r"^postloan\.[a-z]+\.[a-z_.]+\.v[0-9]+$"
#: W3C trace context, version 00: ``00-<trace id>-<parent id>-<flags>`` (55 characters).
TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"


def format_time(moment: datetime) -> str:
    """RFC 3339: ``Z`` for UTC, microseconds only when there are any (as pydantic writes)."""
    text = moment.isoformat()
    return f"{text[:-6]}Z" if text.endswith("+00:00") else text


def format_id(event_id: uuid.UUID | int) -> str:
    """An event id as text: a UUID (or its 128-bit integer), lower case, hyphenated."""
    if isinstance(event_id, uuid.UUID):
        return str(event_id)
    h = f"{event_id:032x}"  # as str(UUID(int=...)), at a third of its cost: bulk writers count
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def source_of(service: str) -> str:
    """The ``source`` of the events a PostLoan service emits."""
    return f"postloan/{service}"


def headers(traceparent: str | None) -> dict[str, str]:
    """The NATS headers an event travels with besides ``Nats-Msg-Id``."""
    return {"traceparent": traceparent} if traceparent else {}


def headers_json(traceparent: str | None) -> str:
    """:func:`headers` as the outbox's ``headers`` column stores them."""
    return json.dumps(headers(traceparent), separators=(",", ":"))


# --- the attribute types of the CloudEvent model --------------------------------------------

EventTime = Annotated[
    AwareDatetime,
    PlainSerializer(format_time, return_type=str, when_used="json"),
    # the serializer would publish a bare string: the contract (docs/asyncapi.yaml) says more
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
EventType = Annotated[str, Field(pattern=TYPE_PATTERN)]
Source = Annotated[str, Field(min_length=1, max_length=200)]
Subject = Annotated[str | None, Field(max_length=200)]
Traceparent = Annotated[str | None, Field(max_length=55)]


# --- bulk writers ----------------------------------------------------------------------------


def template(*, type: str, source: str, time: datetime, traceparent: str | None) -> dict[str, Any]:
    """The envelope of a batch of events of one type, keys in order; each event sets its
    ``id``, ``subject`` and ``data`` by merging (``template | {...}`` keeps the order)."""
    values = {
        "specversion": SPECVERSION,
        "id": None,
        "type": type,
        "source": source,
        "time": format_time(time),
        "subject": None,
        "datacontenttype": DATACONTENTTYPE,
        "traceparent": traceparent,
        "data": None,
    }
    return {key: values[key] for key in KEYS}


# --- set-based SQL ---------------------------------------------------------------------------


def sql_value(expression: str) -> str:
    """A SQL expression as JSON text: ``to_json``'s rendering, ``null`` for NULL."""
    return f"COALESCE(to_json({expression})::text, 'null')"


def sql_object(fields: Sequence[tuple[str, str]]) -> str:
    """A SQL expression for the compact JSON text of an object: ``fields`` are keys, in order,
    with SQL expressions that give each value's JSON text (:func:`sql_value`, or an object)."""
    parts = []
    for n, (key, value) in enumerate(fields):
        opening = "{" if n == 0 else ","
        parts.append(f"'{opening}\"{key}\":' || {value}")
    return "(" + " || ".join(parts) + " || '}')" if parts else "'{}'"


def sql_envelope(*, event_id: str, subject: str, data: str) -> str:
    """A SQL expression for an event's body as text, bound to the parameters of
    :func:`sql_params`: ``event_id`` and ``subject`` are SQL expressions (a uuid, a text),
    ``data`` the JSON text of the payload (:func:`sql_object`)."""
    values = {
        "specversion": sql_value(f"CAST('{SPECVERSION}' AS text)"),
        "id": sql_value(f"CAST({event_id} AS text)"),
        "type": sql_value("CAST(:event_type AS text)"),
        "source": sql_value("CAST(:event_source AS text)"),
        "time": sql_value("CAST(:event_time AS text)"),
        "subject": sql_value(f"CAST({subject} AS text)"),
        "datacontenttype": sql_value(f"CAST('{DATACONTENTTYPE}' AS text)"),
        "traceparent": sql_value("CAST(:event_traceparent AS text)"),
        "data": data,
    }
    return sql_object([(key, values[key]) for key in KEYS])


def sql_params(
    *, type: str, source: str, time: datetime, traceparent: str | None
) -> Mapping[str, Any]:
    """The bound parameters of :func:`sql_envelope`, and the outbox row's ``headers``."""
    return {
        "event_type": type,
        "event_source": source,
        "event_time": format_time(time),
        "event_traceparent": traceparent,
        "event_headers": headers_json(traceparent),
    }
