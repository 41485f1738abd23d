"""How a real SMS, push or voice provider is spoken to, as configuration
(``POSTLOAN_<CHANNEL>_PROVIDER_MAPPING``, a JSON document; docs/notify.md):

``body``
    the request body, a JSON value whose strings may name ``{message_id}``, ``{to}``,
    ``{text}``, ``{subject}`` and ``{channel}`` (replaced by the message's); default the generic
    provider's ``{"message_id": "{message_id}", "to": "{to}", "text": "{text}"}``.
``encoding``
    ``json`` (default) or ``form`` (``application/x-www-form-urlencoded``; ``body`` is then an
    object of strings).
``auth``
    how ``POSTLOAN_<CHANNEL>_PROVIDER_TOKEN`` is sent: ``bearer`` (default), ``basic`` (the
    token is ``user:password``) or ``header:<Name>`` (the token as that header's value).
``id_field`` / ``status_field``
    dotted paths into the provider's JSON answer: its own id of the message (kept, shown in
    receipts) and a status; ``refused`` lists the statuses that mean the provider refused the
    message even though it answered 2xx.

Pure: parsing collects every mistake, and the substitution cannot reach anything but the
five named fields (no ``str.format`` attribute look-ups)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
FIELDS = frozenset({"message_id", "to", "text", "subject", "channel"})
GENERIC_BODY: Mapping[str, object] = {
    "message_id": "{message_id}",
    "to": "{to}",
    "text": "{text}",
}
KEYS = frozenset({"body", "encoding", "auth", "id_field", "status_field", "refused"})


class MappingError(ValueError):
    """A mapping that cannot be used; ``problems`` lists every mistake found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class ProviderMapping:
    body: object = field(default_factory=lambda: dict(GENERIC_BODY))
    encoding: str = "json"
    auth: str = "bearer"
    id_field: str | None = None
    status_field: str | None = None
    refused: frozenset[str] = frozenset()

    def request_body(self, values: Mapping[str, str | None]) -> object:
        """The body with each placeholder replaced by the message's value ('' for none)."""
        return _fill(self.body, values)

    def auth_headers(self, token: str | None) -> dict[str, str]:
        if token is None:
            return {}
        if self.auth == "basic":
            return {"Authorization": "Basic " + base64.b64encode(token.encode()).decode()}
        if self.auth.startswith("header:"):
            return {self.auth.removeprefix("header:"): token}
        return {"Authorization": f"Bearer {token}"}

    def read_answer(self, answer: object) -> tuple[str | None, str | None]:
        """The provider's id of the message and its status, where the mapping names them."""
        return _at(answer, self.id_field), _at(answer, self.status_field)


def parse_mapping(raw: str | Mapping[str, Any]) -> ProviderMapping:
    """A mapping from its JSON document; :class:`MappingError` with every mistake."""
    document = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(document, Mapping):
        raise MappingError(["the mapping must be a JSON object"])
    problems = [f"unknown key {k!r}" for k in sorted(set(document) - KEYS)]
    body = document.get("body", dict(GENERIC_BODY))
    problems += _placeholder_problems(body)
    encoding = document.get("encoding", "json")
    if encoding not in ("json", "form"):
        problems.append("encoding must be 'json' or 'form'")
    elif encoding == "form" and not _flat_strings(body):
        problems.append("a form body must be an object of strings")
    auth = document.get("auth", "bearer")
    if not isinstance(auth, str) or not re.fullmatch(r"bearer|basic|header:[A-Za-z0-9-]+", auth):
        problems.append("auth must be 'bearer', 'basic' or 'header:<Header-Name>'")
    paths = {k: document.get(k) for k in ("id_field", "status_field")}
    for key, path in paths.items():
        if path is not None and not (isinstance(path, str) and re.fullmatch(r"\w+(\.\w+)*", path)):
            problems.append(f"{key} must be a dotted path such as 'data.id'")
    refused = document.get("refused", [])
    if not (isinstance(refused, list) and all(isinstance(r, str) for r in refused)):
        problems.append("refused must be a list of status strings")
    elif refused and paths["status_field"] is None:
        problems.append("refused needs status_field")
    if problems:
        raise MappingError(problems)
    return ProviderMapping(
        body, encoding, auth, paths["id_field"], paths["status_field"], frozenset(refused)
    )


def _placeholder_problems(body: object) -> list[str]:
    if isinstance(body, str):
        unknown = set(PLACEHOLDER.findall(body)) - FIELDS
        return [f"body names unknown field {{{name}}}" for name in sorted(unknown)]
    if isinstance(body, Mapping):
        return [p for v in body.values() for p in _placeholder_problems(v)]
    if isinstance(body, list):
        return [p for v in body for p in _placeholder_problems(v)]
    return []


def _flat_strings(body: object) -> bool:
    return isinstance(body, Mapping) and all(isinstance(v, str) for v in body.values())


def _fill(body: object, values: Mapping[str, str | None]) -> object:
    if isinstance(body, str):
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1)) or "", body)
    if isinstance(body, Mapping):
        return {k: _fill(v, values) for k, v in body.items()}
    if isinstance(body, list):
        return [_fill(v, values) for v in body]
    return body


def _at(answer: object, path: str | None) -> str | None:
    if path is None:
        return None
    for part in path.split("."):
        if not isinstance(answer, Mapping) or part not in answer:
            return None
        answer = answer[part]
    return None if answer is None or isinstance(answer, Mapping | list) else str(answer)
