"""Credentials for what the routing table does not cover: the docs, OpenAPI and metrics.

Only ``/healthz`` and ``/readyz`` answer anyone. The gateway's own API routes check the
caller in their dependencies; every other path (Swagger UI, ReDoc, the OpenAPI document,
``/metrics``, and paths that exist nowhere) is checked here before the router sees it.
The documentation also takes a user's password (HTTP Basic), so that a browser can open it;
``/metrics`` needs the ``metrics:read`` scope (an ``admin`` API key for Prometheus).

This middleware sits inside the proxy's, so the calls the routing table knows never pass here.
"""

from __future__ import annotations

from fastapi import HTTPException, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.domain.scopes import Scope as AccessScope
from gateway.entrypoints.api.deps import (
    authenticate,
    authenticate_reader,
    forbidden,
    render_problem,
)
from gateway.entrypoints.api.docs import OPENAPI_URL, openapi_document
from gateway.entrypoints.api.limits import client_address, spend
from gateway.entrypoints.api.proxy import API_PREFIX
from gateway.runtime import gateway_of
from shared.docs import ASSETS_URL, DOCS_URL
from shared.problems import Problem

PUBLIC_PATHS = frozenset({"/healthz", "/readyz"})
METRICS_PATH = "/metrics"


#: What the documentation's readers must sign in for: the page and the merged document. The
#: page's files (Swagger UI's script and styles) are public: they hold nothing of the platform,
#: and checking a password for each would cost a hash per file.
DOCUMENTATION_PATHS = frozenset({DOCS_URL, OPENAPI_URL})


def _checked_by_routes(path: str) -> bool:
    return (
        path in PUBLIC_PATHS
        or path.startswith(ASSETS_URL + "/")
        or (path.startswith(API_PREFIX) and path != OPENAPI_URL)
    )


async def _check(request: Request) -> Response | None:
    """A response of its own (the merged document, a refusal), or ``None`` to go on."""
    gw, path = gateway_of(request), request.url.path
    if path == METRICS_PATH:
        principal = await authenticate(gw, request.headers)
        if not principal.allows(AccessScope.METRICS_READ):
            raise forbidden(AccessScope.METRICS_READ)
        await spend(gw, request, principal)
        return None
    if path not in DOCUMENTATION_PATHS:
        await spend(gw, request, await authenticate(gw, request.headers))  # then a 404
        return None
    reader = await authenticate_reader(gw, request.headers, client_address(request))
    await spend(gw, request, reader)
    return await openapi_document(request, gw) if path == OPENAPI_URL else None


class GuardMiddleware:
    """Lets through health and the API routes; checks the caller of everything else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _checked_by_routes(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await _check(request)
        except (Problem, HTTPException) as exc:
            response = await render_problem(request, exc)
        if response is None:
            await self.app(scope, receive, send)
        else:
            await response(scope, receive, send)
