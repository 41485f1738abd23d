"""What every service's OpenAPI document says about errors and callers.

FastAPI documents a route's success and, for routes with parameters, a 422 of its own
``HTTPValidationError`` as ``application/json``; every error a PostLoan service answers is an
RFC 9457 problem (:mod:`shared.problems`) as ``application/problem+json``. :func:`install_openapi`
makes the generated document say so, for every route of the app:

- each error response (status 400 and above) is the one ``Problem`` schema, as
  ``application/problem+json``, with the route's own description when it gave one
  (``responses={409: {"description": "..."}}``);
- 422 wherever a route takes parameters or a body, 404 wherever its path has parameters;
- a route with a security requirement documents 401 and 403: in a service, every route that
  checks the trusted principal (:data:`shared.principal.PrincipalDep`, directly or through the
  service's router dependencies) requires the ``principal`` scheme, which FastAPI documents.

The gateway merges these documents into the public one and adds what it answers itself.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from fastapi import FastAPI

from shared.problems import PROBLEM_JSON

Document = dict[str, Any]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PROBLEM_SCHEMA = "Problem"
PROBLEM_REF = {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA}"}
#: FastAPI's own validation schemas, dropped once no response refers to them.
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

#: What each error status means, where the route does not say it better.
STATUS_DESCRIPTIONS: dict[int, str] = {
    400: "Bad request",
    401: "No valid credentials",
    403: "The caller may not do this",
    404: "Not found",
    409: "Conflicts with what is stored",
    413: "The request body is too large",
    422: "Invalid request: `errors` names each field that was wrong and why",
    429: "Too many requests: retry after `Retry-After` seconds",
    502: "Bad gateway: the service behind this route is unreachable or failing",
    503: "Service unavailable",
    504: "Gateway timeout: the service behind this route did not answer in time",
}


def problem_schema() -> dict[str, Any]:
    """The JSON schema of what :func:`shared.problems.problem_response` sends."""
    error = {
        "type": "object",
        "description": "One mistake: where it is (a bracket path) and what is wrong; "
        "some calls add their own keys (lint findings: `locale`, `rule`, `match`, `at`).",
        "properties": {
            "field": {"type": "string", "examples": ["segments[1].path[0].action"]},
            "message": {"type": "string"},
        },
        "required": ["field"],
        "additionalProperties": True,
    }
    return {
        "title": PROBLEM_SCHEMA,
        "type": "object",
        "description": "An RFC 9457 problem; calls may add members of their own.",
        "properties": {
            "type": {"type": "string", "default": "about:blank"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "instance": {"type": "string", "description": "The path that was called"},
            "errors": {"type": "array", "items": error},
        },
        "required": ["type", "title", "status"],
        "additionalProperties": True,
    }


def problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    """An OpenAPI response object for ``status`` answered as a problem."""
    return {
        "description": description or STATUS_DESCRIPTIONS.get(status, "Error"),
        "content": {PROBLEM_JSON: {"schema": dict(PROBLEM_REF)}},
    }


def operations(doc: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(path, method, operation)`` for every operation of ``doc``."""
    for path, item in doc.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def add_problems(operation: dict[str, Any], statuses: Iterable[int]) -> None:
    """Document ``statuses`` on ``operation`` as problems (kept where already documented)."""
    responses = operation.setdefault("responses", {})
    for status in statuses:
        responses.setdefault(str(status), problem_response(status))


def _as_problems(responses: dict[str, Any]) -> None:
    for code, response in responses.items():
        if code.isdigit() and int(code) >= 400:
            described = response.get("description")
            default = STATUS_DESCRIPTIONS.get(int(code))
            keep = described if described and described != "Validation Error" else default
            responses[code] = problem_response(int(code), keep)


def _takes_input(path: str, operation: Mapping[str, Any]) -> bool:
    return bool(operation.get("parameters") or operation.get("requestBody") or "{" in path)


def _document_operation(path: str, operation: dict[str, Any]) -> None:
    _as_problems(operation.setdefault("responses", {}))
    if _takes_input(path, operation):
        add_problems(operation, [422])
    if "{" in path:
        add_problems(operation, [404])
    if operation.get("security"):
        add_problems(operation, [401, 403])


def _refers_to(node: Any, name: str) -> bool:
    target = f"#/components/schemas/{name}"
    if isinstance(node, dict):
        return node.get("$ref") == target or any(_refers_to(v, name) for v in node.values())
    if isinstance(node, list):
        return any(_refers_to(v, name) for v in node)
    return False


def document_problems(doc: Document) -> Document:
    """A copy of ``doc`` whose every error is a documented problem (see the module's text)."""
    result = copy.deepcopy(doc)
    for path, _, operation in operations(result):
        _document_operation(path, operation)
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas[PROBLEM_SCHEMA] = problem_schema()
    for name in FASTAPI_VALIDATION_SCHEMAS:
        rest = {k: v for k, v in result.items() if k != "components"}
        others = {k: v for k, v in schemas.items() if k not in FASTAPI_VALIDATION_SCHEMAS}
        if name in schemas and not _refers_to([rest, others], name):
            del schemas[name]
    return result


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` the document with every error documented (built once per
    version of its routes)."""
    generate = app.openapi
    made: list[tuple[Document, Document]] = []  # FastAPI's document (new when routes change), ours

    def openapi() -> dict[str, Any]:
        raw = generate()
        if not made or made[0][0] is not raw:
            made[:] = [(raw, document_problems(raw))]
        return made[0][1]

    app.openapi = openapi  # type: ignore[method-assign]
