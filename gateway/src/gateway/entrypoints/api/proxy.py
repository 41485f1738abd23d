"""Every call the routing table knows: authenticate, check the scope, forward.

This is the hot path, so it is an ASGI middleware placed just inside the observability
middleware (the request is traced and counted) and ahead of FastAPI's router, whose route
matching and dependency machinery would cost as much as the forwarding itself. Paths the
table does not know go on to the router: the gateway's own routes, or :func:`unknown`.
Answers of rows marked ``personal`` are masked for callers without ``pii:read``; no other
answer is parsed.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.domain.forwarding import (
    SIGNATURE_HEADER,
    HeaderList,
    client_response_headers,
    upstream_request_headers,
)
from gateway.domain.principal import SIGNED_WEBHOOK, Principal
from gateway.domain.routing import (
    Matched,
    MethodNotAllowed,
    NoRoute,
    Resolution,
    Route,
    UnsafePath,
    resolve,
)
from gateway.domain.scopes import Scope as AccessScope
from gateway.entrypoints.api.deps import authenticate, forbidden, remember, render_problem
from gateway.entrypoints.api.limits import spend
from gateway.runtime import Gateway, gateway_of
from gateway.service_layer.personal_data import Unmaskable, masked
from gateway.service_layer.proxy import (
    CircuitOpen,
    Forward,
    UpstreamResponse,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from shared.problems import Problem, problem_response

API_PREFIX = "/api/v1/"


def _resolution(scope: Scope) -> Resolution | UnsafePath:
    try:
        return resolve(scope["method"], scope["path"])
    except UnsafePath as exc:
        return exc


def _route(found: Resolution | UnsafePath, method: str) -> Route:
    if isinstance(found, Matched):
        return found.route
    if isinstance(found, MethodNotAllowed):
        allow = ", ".join(sorted(found.allowed))
        raise HTTPException(405, f"{method} is not allowed here", headers={"Allow": allow})
    raise Problem(400, "Bad request", "the path has empty or dot segments")


async def _body(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is None and "transfer-encoding" not in request.headers:
        return None  # HTTP/1.1: no length and no chunking means no body
    if declared and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "Content too large", f"the body exceeds {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "Content too large", f"the body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks) or None


def _target(scope: Scope) -> str:
    raw: bytes | None = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else quote(scope["path"])
    query: bytes = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


def _call(
    request: Request, route: Route, identity: HeaderList, body: bytes | None, *, mask: bool
) -> Forward:
    scope = request.scope
    request_id = scope.get("state", {}).get("request_id") or uuid.uuid4().hex
    incoming = [
        (k.decode("latin-1"), v.decode("latin-1"))
        for k, v in scope["headers"]
        if not (mask and k == b"accept-encoding")  # a compressed answer could not be masked
    ]
    headers = upstream_request_headers(
        incoming,
        identity,
        request_id=request_id,
        client_ip=request.client.host if request.client else None,
        scheme=scope.get("scheme", "http"),
    )
    return Forward(route.upstream, scope["method"], _target(scope), headers, body)


def _response(upstream: UpstreamResponse) -> Response:
    response = Response(content=upstream.body, status_code=upstream.status)
    response.raw_headers.extend(
        (n.encode("latin-1"), v.encode("latin-1"))
        for n, v in client_response_headers(upstream.headers)
    )
    return response


async def _forward(gw: Gateway, call: Forward, instance: str, *, mask: bool) -> Response:
    try:
        answered = await gw.proxy.forward(call)
        return _response(masked(answered) if mask else answered)
    except Unmaskable as exc:
        detail = f"{call.upstream} answered personal data the gateway cannot mask: {exc}"
        return problem_response(502, "Bad gateway", detail, instance=instance)
    except CircuitOpen as exc:
        retry = str(max(1, round(exc.retry_after)))
        detail = f"{exc.upstream} is failing; calls are paused"
        return problem_response(
            502, "Bad gateway", detail, instance=instance, headers={"Retry-After": retry}
        )
    except UpstreamTimeout as exc:
        detail = f"{exc.upstream} did not answer in time"
        return problem_response(504, "Gateway timeout", detail, instance=instance)
    except UpstreamUnreachable as exc:
        detail = f"{exc.upstream} is unreachable"
        return problem_response(502, "Bad gateway", detail, instance=instance)


def _signed(request: Request) -> Principal:
    """A signed row's caller: no token of ours, but the signature must be there to forward."""
    if SIGNATURE_HEADER not in request.headers:
        raise Problem(401, "Unauthorized", f"a signed route: send the {SIGNATURE_HEADER} header")
    return SIGNED_WEBHOOK


async def answer(request: Request, found: Resolution | UnsafePath) -> Response:
    """Authenticate, authorise and forward one call the routing table knows."""
    gw = gateway_of(request)
    if isinstance(found, Matched) and found.route.signed:
        principal, route = remember(request, _signed(request)), found.route
    else:
        principal = remember(request, await authenticate(gw, request.headers))
        route = _route(found, request.method)
        if not principal.allows(route.scope):
            raise forbidden(route.scope)
    await spend(gw, request, principal)
    body = await _body(request, gw.settings.max_body_bytes)
    mask = route.personal and not principal.allows(AccessScope.PII_READ)
    identity = await gw.identity.headers(principal, request.method, request.scope["path"])
    call = _call(request, route, identity, body, mask=mask)
    return await _forward(gw, call, request.scope["path"], mask=mask)


class ProxyMiddleware:
    """Answers the calls the routing table knows; passes everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        found = _resolution(scope)
        if isinstance(found, NoRoute):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await answer(request, found)
        except (Problem, HTTPException) as exc:
            response = await render_problem(request, exc)
        await response(scope, receive, send)


router = APIRouter(include_in_schema=False)


@router.api_route(
    API_PREFIX + "{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
)
async def unknown(request: Request) -> Response:
    """No such route: callers learn that only once they have shown credentials."""
    gw = gateway_of(request)
    principal = remember(request, await authenticate(gw, request.headers))
    await spend(gw, request, principal)
    raise HTTPException(404, f"no API route {request.url.path}")
