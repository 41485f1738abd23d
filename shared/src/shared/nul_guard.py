"""Refuse a JSON body that carries a NUL character (or is not UTF-8), before any route reads it.

PostgreSQL's ``text`` and ``jsonb`` cannot hold U+0000, so a ``"\\u0000"`` anywhere in a body —
a field, a key, deep inside a strategy or template document — would fail on insert as a 500.
Typed fields could each refuse it, but free-form documents (``dict[str, Any]``) have no type to
do so: one check of the raw bytes covers every body. Path and query parameters are bounded by
their types (:mod:`shared.params`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.problems import problem_response, validation_errors

#: ``\\u0000`` as JSON escapes it, not preceded by an escaping backslash (``\\\\u0000`` is text).
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_MESSAGE = "must not contain NUL characters (U+0000)"


class NulGuardMiddleware:
    """Answers a 422 problem naming each field whose text holds U+0000; others pass as sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        messages = await _read_body(receive)
        body = b"".join(m.get("body", b"") for m in messages)
        places = _nul_places(body) if _NUL_ESCAPE.search(body) else []
        if not _is_utf8(body):  # FastAPI would answer a bare 400 "error parsing the body"
            places, message = [("body",)], "must be JSON in UTF-8"
        else:
            message = _MESSAGE
        if places:
            errors = validation_errors([{"loc": loc, "msg": message} for loc in places])
            detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
            response = problem_response(
                422, "Invalid request", detail, instance=scope["path"], errors=errors
            )
            await response(scope, receive, send)
            return
        await self.app(scope, _replay(messages, receive), send)


def _is_utf8(body: bytes) -> bool:
    try:
        return body.isascii() or bool(body.decode("utf-8"))
    except UnicodeDecodeError:
        return False


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


async def _read_body(receive: Receive) -> list[Message]:
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def _nul_places(body: bytes) -> list[tuple[Any, ...]]:
    """Where a NUL is, as validation locations (``("body", "segments", 1, "name")``)."""
    try:
        document = json.loads(body)
    except ValueError:  # not JSON after all: FastAPI's own parsing says so
        return []
    return list(_walk(document, ("body",)))


def _walk(node: Any, at: tuple[Any, ...]) -> Any:
    if isinstance(node, str):
        if "\x00" in node:
            yield at
    elif isinstance(node, dict):
        for key, value in node.items():
            if "\x00" in key:
                yield at
            yield from _walk(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*at, index))
