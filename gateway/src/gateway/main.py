"""The gateway app: ``uvicorn --factory gateway.main:create_app``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.middleware import Middleware

from gateway.entrypoints.api import accounts, auth, borrowers, docs, guard, headers, proxy
from gateway.runtime import gateway_lifespan
from gateway.settings import GatewaySettings
from shared.app import ServiceDefinition, create_service_app
from shared.clock import Clock, system_clock


def create_app(settings: GatewaySettings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    """The gateway, configured from ``POSTLOAN_*`` variables unless settings are given;
    ``clock`` times rate limits and lock-outs."""
    settings = settings or GatewaySettings()
    definition = ServiceDefinition(
        name="gateway",
        title="PostLoan API",
        description="The public entry to PostLoan: authentication, authorisation, routing.",
        # The catch-all for unknown API paths comes last, after the gateway's own routes.
        routers=[auth.router, accounts.router, borrowers.router, proxy.router],
        migrations=Path(__file__).parent / "migrations",
        openapi_url=docs.OPENAPI_URL,  # Swagger UI at /docs reads the merged document
        # Inside the shared middleware, so that proxied calls are traced and counted; the
        # proxy answers the routing table's calls, the guard checks the caller of the rest.
        # Security headers and CORS outermost, so that refusals carry them too.
        middleware=[
            headers.security_headers_middleware(settings),
            headers.cors_middleware(settings),
            Middleware(proxy.ProxyMiddleware),
            Middleware(guard.GuardMiddleware),
        ],
        lifespan=gateway_lifespan(settings, clock),
    )
    app = create_service_app(definition, settings)
    app.swagger_ui_parameters = {"persistAuthorization": True}
    return app
