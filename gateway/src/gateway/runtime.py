"""What the gateway builds at start-up on top of the service runtime, and tears down at exit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from functools import partial

from fastapi import FastAPI, Request

from gateway.adapters.jwks import JwksFetcher
from gateway.adapters.upstream import UpstreamClient
from gateway.domain.breaker import CircuitBreaker
from gateway.domain.routing import Upstream
from gateway.service_layer.audit import AuditWriter
from gateway.service_layer.auth import ApiKeyAuthenticator
from gateway.service_layer.bootstrap import ensure_admin, jwt_secret, principal_secret
from gateway.service_layer.external_identity import ExternalTokens, external_tokens
from gateway.service_layer.identity import Directory, Identity
from gateway.service_layer.logins import LoginThrottle
from gateway.service_layer.openapi import OpenApiAggregator
from gateway.service_layer.proxy import Proxy
from gateway.service_layer.ratelimits import RateLimiter
from gateway.service_layer.tokens import TokenService
from gateway.settings import GatewaySettings
from shared.app import Runtime
from shared.clock import Clock, system_clock
from shared.db import Database


@dataclass(frozen=True)
class Gateway:
    """Reachable as ``request.app.state.gateway`` while the app runs."""

    settings: GatewaySettings
    db: Database
    tokens: TokenService
    api_keys: ApiKeyAuthenticator
    proxy: Proxy
    openapi: OpenApiAggregator
    identity: Identity
    limits: RateLimiter
    logins: LoginThrottle
    #: the identity provider's tokens, when ``idp_jwks_url`` is set
    external_tokens: ExternalTokens | None = None
    #: Appends the audit log's entries; None when ``POSTLOAN_AUDIT_ENABLED`` is false.
    audit: AuditWriter | None = None


def gateway_of(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


def _client(settings: GatewaySettings, upstream: Upstream) -> UpstreamClient:
    return UpstreamClient(
        upstream.value,
        settings.upstream_url(upstream),
        timeout=settings.upstream_timeout_s,
        connect_timeout=settings.upstream_connect_timeout_s,
        pool_size=settings.upstream_pool_size,
    )


async def _external_tokens(
    settings: GatewaySettings, stack: AsyncExitStack
) -> ExternalTokens | None:
    if settings.idp_jwks_url is None:
        return None
    fetcher = JwksFetcher(settings.idp_jwks_url, timeout_s=settings.idp_jwks_timeout_s)
    await fetcher.start()
    stack.push_async_callback(fetcher.close)
    return external_tokens(settings, fetcher)


def _limits(settings: GatewaySettings, db: Database, clock: Clock) -> RateLimiter:
    rules = settings.rate_limit_rules()
    return RateLimiter(db, rules, lease_s=settings.rate_limit_lease_s, clock=clock)


def _logins(settings: GatewaySettings, db: Database, clock: Clock) -> LoginThrottle:
    return LoginThrottle(
        db,
        per_user=settings.lockout_rule(settings.login_user_threshold),
        per_address=settings.lockout_rule(settings.login_address_threshold),
        clock=clock,
    )


def _audit_writer(settings: GatewaySettings, db: Database) -> AuditWriter | None:
    if not settings.audit_enabled:
        return None
    writer = AuditWriter(
        db, max_batch=settings.audit_batch_max, durable=settings.audit_synchronous_commit
    )
    writer.start()
    return writer


@asynccontextmanager
async def gateway_runtime(
    settings: GatewaySettings, db: Database, clock: Clock = system_clock
) -> AsyncIterator[Gateway]:
    """Signing key, admin account, one pooled client per upstream (closed on exit)."""
    tokens = TokenService(
        secret=jwt_secret(settings),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_s=settings.jwt_ttl_s,
    )
    await ensure_admin(db, settings)
    identity = Identity(
        directory=Directory(db, ttl_s=settings.directory_cache_ttl_s),
        secret=principal_secret(settings),
        ttl_s=settings.principal_ttl_s,
    )
    clients = {u: _client(settings, u) for u in Upstream}
    async with AsyncExitStack() as stack:
        for client in clients.values():
            await client.start()
            stack.push_async_callback(client.close)
        audit = _audit_writer(settings, db)
        if audit is not None:
            stack.push_async_callback(audit.close)
        breaker = partial(
            CircuitBreaker,
            threshold=settings.breaker_threshold,
            reset_after=settings.breaker_reset_s,
        )
        yield Gateway(
            settings=settings,
            db=db,
            tokens=tokens,
            api_keys=ApiKeyAuthenticator(db, ttl_s=settings.api_key_cache_ttl_s),
            proxy=Proxy(clients, get_retries=settings.upstream_get_retries, breaker=breaker),
            openapi=OpenApiAggregator(clients, ttl_s=settings.openapi_cache_ttl_s),
            identity=identity,
            external_tokens=await _external_tokens(settings, stack),
            limits=_limits(settings, db, clock),
            logins=_logins(settings, db, clock),
            audit=audit,
        )


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def gateway_lifespan(settings: GatewaySettings, clock: Clock = system_clock) -> Lifespan:
    """The gateway's start-up, entered by the shared lifespan once the database and bus are up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt: Runtime = app.state.runtime
        async with gateway_runtime(settings, rt.db, clock) as gw:
            app.state.gateway = gw
            yield

    return lifespan
