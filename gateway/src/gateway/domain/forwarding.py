"""Which headers cross the gateway, in each direction.

Towards an upstream: the client's own headers minus hop-by-hop ones, its credentials and any
identity or trace headers it tried to set itself; plus the gateway's identity headers: the
signed ``X-PostLoan-Principal`` upstreams check (``shared.principal``), and the same subject,
roles, scopes and kind in plain headers for the record (never for a decision). Back to the
client: the upstream's headers minus hop-by-hop ones and those the gateway's own server sets.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.domain.principal import Principal

HeaderList = list[tuple[str, str]]

#: RFC 9110 section 7.6.1, plus the de-facto ones proxies drop.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
IDENTITY_PREFIX = "x-postloan-"
SUBJECT_HEADER = "x-postloan-subject"
ROLES_HEADER = "x-postloan-roles"
SCOPES_HEADER = "x-postloan-scopes"
PRINCIPAL_KIND_HEADER = "x-postloan-principal-kind"
#: The signed principal (``v1.<payload>.<signature>``), the one identity upstreams trust.
PRINCIPAL_HEADER = "x-postloan-principal"
#: Not an identity header: a provider's signature over the raw body, checked upstream.
SIGNATURE_HEADER = "x-postloan-signature"

#: Set again by the gateway (or the HTTP client) for each upstream call.
_REPLACED_ON_REQUEST = frozenset(
    {
        "host",
        "content-length",
        "authorization",
        "x-api-key",
        "cookie",
        "traceparent",
        "tracestate",
        "x-request-id",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "forwarded",
    }
)
#: Set by the gateway's own server on every response.
_REPLACED_ON_RESPONSE = frozenset({"content-length", "date", "server", "x-request-id"})


def _connection_listed(headers: Iterable[tuple[str, str]]) -> frozenset[str]:
    """Headers named in ``Connection`` are hop-by-hop too (RFC 9110 section 7.6.1)."""
    listed: set[str] = set()
    for name, value in headers:
        if name.lower() == "connection":
            listed |= {token.strip().lower() for token in value.split(",") if token.strip()}
    return frozenset(listed)


def upstream_request_headers(
    incoming: HeaderList,
    identity: HeaderList,
    *,
    request_id: str,
    client_ip: str | None,
    scheme: str,
) -> HeaderList:
    """The headers of the forwarded request, before trace context is added; ``identity`` is
    :func:`identity_headers`' answer for this call."""
    drop = HOP_BY_HOP | _REPLACED_ON_REQUEST | _connection_listed(incoming)
    kept = [
        (name, value)
        for name, value in incoming
        if (low := name.lower()) not in drop
        and (not low.startswith(IDENTITY_PREFIX) or low == SIGNATURE_HEADER)
    ]
    forwarded_for = [v for n, v in incoming if n.lower() == "x-forwarded-for"]
    if client_ip:
        forwarded_for.append(client_ip)
    kept += identity
    kept.append(("x-request-id", request_id))
    kept.append(("x-forwarded-proto", scheme))
    if forwarded_for:
        kept.append(("x-forwarded-for", ", ".join(forwarded_for)))
    return kept


def identity_headers(principal: Principal, signed: str) -> HeaderList:
    """``signed`` is the principal signed for this one call (``shared.principal.sign``)."""
    return [
        (PRINCIPAL_HEADER, signed),
        (SUBJECT_HEADER, principal.subject),
        (ROLES_HEADER, ",".join(sorted(principal.roles))),
        (SCOPES_HEADER, " ".join(sorted(principal.scopes))),
        (PRINCIPAL_KIND_HEADER, principal.kind.value),
    ]


def client_response_headers(upstream: HeaderList) -> HeaderList:
    """The upstream response's headers that reach the client, names lower-cased."""
    drop = HOP_BY_HOP | _REPLACED_ON_RESPONSE | _connection_listed(upstream)
    return [(n.lower(), v) for n, v in upstream if n.lower() not in drop]
