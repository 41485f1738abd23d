"""Security headers on every answer, and CORS for the front ends' origins.

Both wrap everything else (the 401s, 429s and upstream answers too): a browser shows a page
its error only when the CORS headers are on it, and an upstream's answer gets the gateway's
headers in place of any of its own of the same names.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.domain.security_headers import NAMES, security_headers
from gateway.settings import GatewaySettings
from shared.problems import problem_response

#: What a front end may send and read across origins (bearer tokens, never cookies).
ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
ALLOWED_HEADERS = ("authorization", "content-type", "x-api-key", "x-request-id", "traceparent")
EXPOSED_HEADERS = ("retry-after", "x-request-id", "location", "www-authenticate")


class SecurityHeadersMiddleware:
    """Adds HSTS, nosniff, frame and referrer policies and the CSP to every answer."""

    def __init__(self, app: ASGIApp, *, hsts_max_age_s: int) -> None:
        self.app = app
        self.hsts_max_age_s = hsts_max_age_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = message.get("headers", [])
                content_type = Headers(raw=raw).get("content-type", "")
                kept = [(n, v) for n, v in raw if n.decode("latin-1").lower() not in NAMES]
                ours = security_headers(content_type, hsts_max_age_s=self.hsts_max_age_s)
                message["headers"] = kept + [(n.encode(), v.encode()) for n, v in ours]
            await send(message)

        await self.app(scope, receive, with_headers)


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, whose refused preflights are problem documents like every 4xx."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        detail = bytes(response.body).decode() or "preflight refused"
        refusal = f"{detail}: the origin, method or headers are not allowed cross-origin"
        return problem_response(response.status_code, "Bad request", refusal)


def cors_middleware(settings: GatewaySettings) -> Middleware:
    """CORS for the configured origins only: none by default, so every preflight is refused."""
    return Middleware(
        ProblemCORSMiddleware,
        allow_origins=list(settings.cors_allowed_origins),
        allow_methods=list(ALLOWED_METHODS),
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        allow_credentials=False,
        max_age=600,
    )


def security_headers_middleware(settings: GatewaySettings) -> Middleware:
    return Middleware(SecurityHeadersMiddleware, hsts_max_age_s=settings.hsts_max_age_s)
