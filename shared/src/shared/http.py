"""ASGI middleware shared by the services and the gateway: server span, request id, metrics."""

from __future__ import annotations

import time
import uuid

from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from shared.telemetry import context_from, tracer

REQUEST_ID_HEADER = "x-request-id"
_UNTRACED = frozenset({"/healthz", "/readyz", "/metrics"})


class ObservabilityMiddleware:
    """Continues the caller's trace, tags the response with a request id, counts requests."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service
        self._tracer = tracer(f"{service}.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _UNTRACED:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append(
                    (REQUEST_ID_HEADER.encode(), request_id.encode())
                )
            await send(message)

        method = scope["method"]
        token = otel_context.attach(context_from(headers))
        try:
            with self._tracer.start_as_current_span(
                f"{method} {scope['path']}",
                kind=SpanKind.SERVER,
                attributes={
                    "http.request.method": method,
                    "url.path": scope["path"],
                    "postloan.request_id": request_id,
                },
            ) as span:
                await self.app(scope, receive, send_wrapper)
                if template := getattr(scope.get("route"), "path", None):
                    # Named by the route, not the path: an id in a path stays out of the name.
                    span.update_name(f"{method} {template}")
                    span.set_attribute("http.route", template)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
        finally:
            otel_context.detach(token)
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(self.service, method, template, str(status)).inc()
            HTTP_LATENCY.labels(self.service, method, template).observe(
                time.perf_counter() - started
            )
