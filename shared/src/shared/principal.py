"""The trusted principal: who the gateway authenticated, signed so that services can check it.

The gateway authenticates a caller (bearer token or API key) and forwards, with every call, the
header ``X-PostLoan-Principal: v1.<payload>.<signature>``:

- ``payload`` is the base64url (unpadded) JSON ``{"sub", "roles", "scopes", "kind", "attrs",
  "team", "iat", "exp"}`` — ``attrs`` are the user's ``supervisor``, ``skills``, ``languages``,
  ``capacity`` and ``away``; ``team`` the subjects of the collectors whose supervisor the caller
  is; ``exp`` a few seconds after ``iat`` (Unix seconds);
- ``signature`` is the base64url HMAC-SHA256, keyed with ``POSTLOAN_PRINCIPAL_SECRET``, of
  ``v1.<payload>\\n<METHOD>\\n<path>``: a principal is good for one method and path only, so a
  header copied from one call cannot be replayed on another route.

Routes take :data:`PrincipalDep`; a call without a valid principal is answered 401 — unless
``POSTLOAN_ALLOW_UNSIGNED_PRINCIPAL`` is on (never in production), where a call without the
header acts as the all-scopes :data:`DEVELOPER`. A header that is present is always checked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from shared.problems import Problem

PRINCIPAL_HEADER = "x-postloan-principal"
VERSION = "v1"
#: How long a signed principal holds: it is made for one call, forwarded at once.
DEFAULT_TTL_S = 30
#: Seconds a service's clock may lag behind the gateway's before ``iat`` looks like the future.
CLOCK_SKEW_S = 5
MIN_SECRET_LENGTH = 32
MAX_HEADER_LENGTH = 64 * 1024


#: Roles whose scopes cover every case; ``collector`` and ``supervisor`` see their own.
WIDE_ROLES = frozenset({"admin", "compliance", "risk_analyst", "auditor"})


@dataclass(frozen=True, slots=True)
class UserAttributes:
    """What the gateway's accounts know of a user beyond roles (BRIEF decision 12)."""

    supervisor: str | None = None
    skills: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    capacity: int | None = None
    away: bool = False


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller of a service route.

    ``team`` is set for supervisors: the collectors whose ``supervisor`` attribute names them,
    so that a service checks a team without a directory of its own.
    """

    subject: str
    roles: frozenset[str]
    scopes: frozenset[str]
    kind: str = "user"
    attributes: UserAttributes = field(default_factory=UserAttributes)
    team: frozenset[str] = frozenset()

    def has_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "*" in self.scopes

    @property
    def sees_every_case(self) -> bool:
        """Roles that read the whole portfolio (BRIEF section 6): everyone but collectors and
        supervisors, who see only their own (and their team's) cases."""
        return self.has_role(*WIDE_ROLES) or self.kind == "development"


#: The caller of a service in development mode when no principal is sent: sees everything.
DEVELOPER = Principal(
    subject="developer",
    roles=frozenset({"admin"}),
    scopes=frozenset({"*"}),
    kind="development",
)


class InvalidPrincipal(Exception):
    """The header is malformed, forged, expired or made for another call."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidPrincipal("not base64url") from exc


def _mac(secret: str, signed_part: str, method: str, path: str) -> bytes:
    message = f"{signed_part}\n{method.upper()}\n{path}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def _claims(principal: Principal, now: int, ttl_s: int) -> dict[str, Any]:
    a = principal.attributes
    return {
        "sub": principal.subject,
        "roles": sorted(principal.roles),
        "scopes": sorted(principal.scopes),
        "kind": principal.kind,
        "attrs": {
            "supervisor": a.supervisor,
            "skills": list(a.skills),
            "languages": list(a.languages),
            "capacity": a.capacity,
            "away": a.away,
        },
        "team": sorted(principal.team),
        "iat": now,
        "exp": now + ttl_s,
    }


def sign(
    principal: Principal,
    *,
    secret: str,
    method: str,
    path: str,
    now: float,
    ttl_s: int = DEFAULT_TTL_S,
) -> str:
    """The header value carrying ``principal`` for one call (``path`` without the query)."""
    payload = json.dumps(_claims(principal, int(now), ttl_s), separators=(",", ":"))
    signed_part = f"{VERSION}.{_b64(payload.encode())}"
    return f"{signed_part}.{_b64(_mac(secret, signed_part, method, path))}"


def _strings(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidPrincipal(f"{name} must be a list of strings")
    return tuple(value)


def _attributes(raw: object) -> UserAttributes:
    if not isinstance(raw, dict):
        raise InvalidPrincipal("attrs must be an object")
    supervisor, capacity, away = raw.get("supervisor"), raw.get("capacity"), raw.get("away")
    if supervisor is not None and not isinstance(supervisor, str):
        raise InvalidPrincipal("attrs.supervisor must be a string")
    if capacity is not None and (not isinstance(capacity, int) or isinstance(capacity, bool)):
        raise InvalidPrincipal("attrs.capacity must be an integer")
    return UserAttributes(
        supervisor=supervisor,
        skills=_strings(raw.get("skills", []), "attrs.skills"),
        languages=_strings(raw.get("languages", []), "attrs.languages"),
        capacity=capacity,
        away=bool(away),
    )


def _principal(claims: dict[str, Any]) -> Principal:
    subject, kind = claims.get("sub"), claims.get("kind", "user")
    if not isinstance(subject, str) or not subject or not isinstance(kind, str):
        raise InvalidPrincipal("sub and kind must be strings")
    return Principal(
        subject=subject,
        roles=frozenset(_strings(claims.get("roles", []), "roles")),
        scopes=frozenset(_strings(claims.get("scopes", []), "scopes")),
        kind=kind,
        attributes=_attributes(claims.get("attrs", {})),
        team=frozenset(_strings(claims.get("team", []), "team")),
    )


def _checked_times(claims: dict[str, Any], now: float) -> None:
    issued, expires = claims.get("iat"), claims.get("exp")
    if not isinstance(issued, int) or not isinstance(expires, int):
        raise InvalidPrincipal("iat and exp must be integers")
    if now >= expires:
        raise InvalidPrincipal("expired")
    if issued > now + CLOCK_SKEW_S:
        raise InvalidPrincipal("issued in the future")


def verify(value: str, *, secret: str, method: str, path: str, now: float) -> Principal:
    """The principal in a header value; :class:`InvalidPrincipal` when it must be refused."""
    if len(value) > MAX_HEADER_LENGTH:
        raise InvalidPrincipal("too long")
    version, _, rest = value.partition(".")
    payload, _, signature = rest.partition(".")
    if version != VERSION or not payload or not signature:
        raise InvalidPrincipal(f"not {VERSION}.<payload>.<signature>")
    expected = _mac(secret, f"{version}.{payload}", method, path)
    if not hmac.compare_digest(expected, _unb64(signature)):
        raise InvalidPrincipal("bad signature (or made for another method or path)")
    try:
        claims = json.loads(_unb64(payload))
    except ValueError as exc:
        raise InvalidPrincipal("payload is not JSON") from exc
    if not isinstance(claims, dict):
        raise InvalidPrincipal("payload is not an object")
    _checked_times(claims, now)
    return _principal(claims)


@dataclass(frozen=True)
class PrincipalVerifier:
    """A service's check of the header, built from its settings at start."""

    secret: str
    allow_unsigned: bool = False
    clock: Callable[[], float] = time.time

    def principal(self, header: str | None, method: str, path: str) -> Principal:
        """The caller, or a 401 problem."""
        if header is None:
            if self.allow_unsigned:
                return DEVELOPER
            raise _unauthorized(f"no trusted principal: call through the gateway ({_HINT})")
        if not self.secret:
            raise _unauthorized("this service has no POSTLOAN_PRINCIPAL_SECRET to check it with")
        try:
            return verify(header, secret=self.secret, method=method, path=path, now=self.clock())
        except InvalidPrincipal as exc:
            raise _unauthorized(f"the principal is not valid: {exc}") from None


_HINT = "the X-PostLoan-Principal header is set and signed by the gateway"


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail)


def verifier_of(request: Request) -> PrincipalVerifier:
    found: PrincipalVerifier = request.app.state.principal_verifier
    return found


#: Declared so that each route that checks the caller says so in the OpenAPI document (the
#: ``principal`` security scheme, with its 401 and 403: :mod:`shared.openapi`); the check is ours.
PRINCIPAL_SCHEME = APIKeyHeader(
    name="X-PostLoan-Principal",
    scheme_name="principal",
    description="The caller as the gateway verified it, signed for this one call: services "
    "are called through the gateway only.",
    auto_error=False,
)


def current_principal(
    request: Request, header: Annotated[str | None, Security(PRINCIPAL_SCHEME)] = None
) -> Principal:
    """The verified caller of this request (cached on the request: one check per call)."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = verifier_of(request).principal(header, request.method, request.scope["path"])
    request.state.principal = principal
    return principal


#: The verified caller: ``principal: PrincipalDep`` in a route's parameters.
PrincipalDep = Annotated[Principal, Depends(current_principal)]
