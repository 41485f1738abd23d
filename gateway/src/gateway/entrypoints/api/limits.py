"""Rate limits where the caller is known: right after authentication, before any work.

Called by the proxy (the routing table's calls), the guard (docs, metrics) and the gateway's
own routes, each once it has the principal — not by a middleware of its own in front of
them, which would verify every token twice (a JWT check costs more than the limit itself).
A caller without a principal of ours (a login, a signed webhook) is counted by address.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.requests import HTTPConnection

from gateway.domain.principal import Principal, PrincipalKind
from gateway.domain.ratelimits import RouteClass, classify, retry_after_header
from gateway.runtime import Gateway
from gateway.service_layer.ratelimits import RateLimited


def client_address(connection: HTTPConnection) -> str:
    """The peer's address (the client's own behind a proxy that uvicorn is told to trust
    with ``--forwarded-allow-ips``)."""
    return connection.client.host if connection.client else "unknown"


def caller_key(connection: HTTPConnection, principal: Principal | None) -> str:
    if principal is None or principal.kind is PrincipalKind.SIGNED_WEBHOOK:
        return f"address:{client_address(connection)}"
    return f"{principal.kind}:{principal.subject}"


def too_many(what: str, retry_after_s: float) -> HTTPException:
    """429 with ``Retry-After``, rendered as a problem by the app's handlers."""
    retry = retry_after_header(retry_after_s)
    return HTTPException(429, f"{what}; retry in {retry} s", headers={"Retry-After": retry})


async def spend(
    gw: Gateway,
    connection: HTTPConnection,
    principal: Principal | None,
    route_class: RouteClass | None = None,
) -> None:
    """Take one call from the caller's bucket for this call's class, or raise a 429."""
    if not gw.settings.rate_limits_enabled:
        return
    scope = connection.scope
    route_class = route_class or classify(scope["method"], scope["path"])
    try:
        await gw.limits.spend(caller_key(connection, principal), route_class)
    except RateLimited as exc:
        raise too_many(f"the {exc.route_class} rate limit is spent", exc.retry_after_s) from None
