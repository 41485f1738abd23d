"""One OpenAPI document for the whole API: the gateway's own paths plus each upstream's.

An upstream's paths are kept only where the routing table sends them to that upstream, each
operation is marked with the scope it needs and the credentials it takes, and documents what the
gateway itself may answer before or instead of the service (401, 403, 429, 502, 504, ...) as
problems of the one shared ``Problem`` schema (:mod:`shared.openapi`). Schema names that two
services use for different shapes are prefixed with the service's name.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from gateway.adapters.upstream import Sender, UpstreamError
from gateway.domain.routing import Matched, UnsafePath, Upstream, resolve
from gateway.domain.scopes import SCOPE_DESCRIPTIONS
from shared.openapi import HTTP_METHODS, add_problems, operations

log = logging.getLogger(__name__)

Document = dict[str, Any]
TOKEN_URL = "/api/v1/auth/token"
REF_PREFIX = "#/components/schemas/"
#: A slow service must not hold up the documentation of the others.
FETCH_TIMEOUT_S = 3.0


def security_schemes() -> dict[str, Any]:
    return {
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "oauth2": {
            "type": "oauth2",
            "flows": {
                "password": {
                    "tokenUrl": TOKEN_URL,
                    "scopes": {str(s): d for s, d in SCOPE_DESCRIPTIONS.items()},
                }
            },
        },
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "signature": {
            "type": "apiKey",
            "in": "header",
            "name": "X-PostLoan-Signature",
            "description": "sha256=<hex HMAC-SHA256 of the raw body> under the webhook secret",
        },
    }


def _security(scope: str | None = None) -> list[dict[str, list[str]]]:
    return [{"bearerAuth": []}, {"oauth2": [scope] if scope else []}, {"apiKey": []}]


#: What the gateway answers on every call of its own: too many calls of this caller.
GATEWAY_STATUSES = (429,)
#: ... on every call it authenticates: no or bad credentials, a scope the caller lacks.
AUTHENTICATED_STATUSES = (401, 403)
#: ... on every call it forwards: the service unreachable, failing (circuit open) or too slow.
FORWARDED_STATUSES = (502, 504)


def gateway_statuses(path: str, operation: Mapping[str, Any], *, forwarded: bool) -> list[int]:
    """The statuses the gateway itself may answer for ``operation``."""
    statuses = list(GATEWAY_STATUSES)
    if operation.get("security"):
        signed = operation["security"] == [{"signature": []}]
        statuses += [401] if signed else AUTHENTICATED_STATUSES
    if forwarded:
        statuses += FORWARDED_STATUSES
        if "{" in path:
            statuses.append(400)  # a path parameter with empty or dot segments
        if "requestBody" in operation:
            statuses.append(413)
    return sorted(statuses)


def routed_paths(upstream: Upstream, paths: Mapping[str, Any]) -> dict[str, Any]:
    """The operations the routing table sends to ``upstream``, each with its scope."""
    kept: dict[str, Any] = {}
    for path, item in paths.items():
        routed = {}
        for method in HTTP_METHODS:
            if method not in item:
                continue
            try:
                found = resolve(method.upper(), path)
            except UnsafePath:
                continue
            if isinstance(found, Matched) and found.route.upstream is upstream:
                operation = copy.deepcopy(item[method])
                if found.route.signed:  # no token: the signature is the credential
                    operation["security"] = [{"signature": []}]
                else:
                    operation["security"] = _security(found.route.scope)
                    operation["x-postloan-scope"] = str(found.route.scope)
                add_problems(operation, gateway_statuses(path, operation, forwarded=True))
                routed[method] = operation
        if routed:
            extra = {k: v for k, v in item.items() if k not in HTTP_METHODS}
            kept[path] = {**extra, **routed}
    return kept


def _rewrite_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            name = ref.removeprefix(REF_PREFIX)
            if name in renames:
                node = {**node, "$ref": REF_PREFIX + renames[name]}
        return {k: _rewrite_refs(v, renames) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def _without_collisions(upstream: Upstream, doc: Document, existing: Mapping[str, Any]) -> Document:
    """``doc`` with its schemas renamed where ``existing`` has a different one of that name."""
    schemas: dict[str, Any] = doc.get("components", {}).get("schemas", {})
    renames: dict[str, str] = {}
    while True:  # renaming one schema changes those that refer to it: repeat until stable
        renamed = {renames.get(n, n): _rewrite_refs(s, renames) for n, s in schemas.items()}
        clashing = {
            n for n in schemas if n not in renames and n in existing and existing[n] != renamed[n]
        }
        if not clashing:
            break
        renames |= {n: upstream.value.capitalize() + n for n in clashing}
    result: Document = _rewrite_refs({k: v for k, v in doc.items() if k != "components"}, renames)
    result["components"] = {**doc.get("components", {}), "schemas": renamed}
    return result


def merge(gateway: Document, upstreams: Mapping[Upstream, Document | None]) -> Document:
    """The whole API's document; ``None`` marks an upstream whose document was unavailable."""
    merged = copy.deepcopy(gateway)
    merged["info"] = {**merged.get("info", {}), "title": "PostLoan API"}
    for path, _, operation in operations(merged):
        if operation.get("security"):  # the gateway's own routes take what the others take
            operation["security"] = _security()
        add_problems(operation, gateway_statuses(path, operation, forwarded=False))
    schemas: dict[str, Any] = merged.setdefault("components", {}).setdefault("schemas", {})
    paths: dict[str, Any] = merged.setdefault("paths", {})
    missing = []
    for upstream, doc in upstreams.items():
        if doc is None:
            missing.append(upstream.value)
            continue
        clean = _without_collisions(upstream, doc, schemas)
        paths.update(routed_paths(upstream, clean.get("paths", {})))
        schemas.update(clean.get("components", {}).get("schemas", {}))
    merged["components"]["securitySchemes"] = security_schemes()
    if missing:
        merged["x-postloan-unavailable-upstreams"] = sorted(missing)
    return merged


class OpenApiAggregator:
    """Fetches each upstream's ``/openapi.json`` when asked, keeping it ``ttl_s`` seconds."""

    def __init__(
        self,
        clients: Mapping[Upstream, Sender],
        *,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clients = dict(clients)
        self._ttl_s = ttl_s
        self._clock = clock
        self._cache: dict[Upstream, tuple[float, Document]] = {}

    async def document(self, gateway: Document) -> Document:
        names = list(self._clients)
        docs = await asyncio.gather(*(self._upstream_doc(n) for n in names))
        return merge(gateway, dict(zip(names, docs, strict=True)))

    async def _upstream_doc(self, name: Upstream) -> Document | None:
        cached = self._cache.get(name)
        if cached is not None and self._clock() - cached[0] < self._ttl_s:
            return cached[1]
        try:
            response = await asyncio.wait_for(
                self._clients[name].send(
                    "GET", "/openapi.json", [("accept", "application/json")], None
                ),
                FETCH_TIMEOUT_S,
            )
            if response.status != 200:
                raise ValueError(f"status {response.status}")
            doc: Document = json.loads(response.body)
        except (UpstreamError, ValueError, TimeoutError) as exc:
            log.warning("OpenAPI document of %s unavailable: %s", name, exc)
            return None
        self._cache[name] = (self._clock(), doc)
        return doc
