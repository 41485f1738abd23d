"""Access tokens: short-lived JWTs signed with HS256, checked strictly on the way in.

The algorithm is pinned (a token saying ``alg: none`` or RS256 is refused), and ``exp``,
``iat``, ``iss``, ``aud`` and ``sub`` are required and checked. The token carries the scopes
its roles grant, so the routing check needs no database.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt

from gateway.domain.principal import Principal, PrincipalKind
from gateway.domain.scopes import Role, Scope

ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
_ROLES = frozenset(Role)
_SCOPES = frozenset(Scope)


class InvalidToken(Exception):
    """The token is malformed, forged, expired or meant for someone else."""


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


@dataclass(frozen=True)
class TokenService:
    """Issues and verifies tokens; verified ones are remembered until they expire."""

    secret: str
    issuer: str
    audience: str
    ttl_s: int
    clock: Callable[[], float] = time.time
    max_remembered: int = 10_000
    # A client sends the same token many times: decoding it is most of the gateway's own cost.
    _verified: dict[str, tuple[float, Principal]] = field(default_factory=dict, repr=False)

    def issue(self, principal: Principal) -> IssuedToken:
        now = int(self.clock())
        claims = {
            "sub": principal.subject,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + self.ttl_s,
            "jti": uuid.uuid4().hex,
            "roles": sorted(principal.roles),
            "scope": " ".join(sorted(principal.scopes)),
        }
        token = jwt.encode(claims, self.secret, algorithm=ALGORITHM)
        return IssuedToken(access_token=token, expires_in=self.ttl_s)

    def verify(self, token: str) -> Principal:
        """The principal a token stands for; ``InvalidToken`` when it must be refused."""
        remembered = self._verified.get(token)
        if remembered is not None and self.clock() < remembered[0]:
            return remembered[1]
        claims = self._decode(token)
        principal, expires = _principal(claims), claims["exp"]
        if not isinstance(expires, int | float):
            raise InvalidToken("malformed expiry")
        if len(self._verified) >= self.max_remembered:
            self._verified.clear()
        self._verified[token] = (float(expires), principal)
        return principal

    def _decode(self, token: str) -> dict[str, object]:
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": _REQUIRED_CLAIMS},
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidToken(str(exc)) from exc
        return claims


def _principal(claims: dict[str, object]) -> Principal:
    subject, roles, scope = claims["sub"], claims.get("roles", []), claims.get("scope", "")
    if not isinstance(subject, str) or not isinstance(roles, list) or not isinstance(scope, str):
        raise InvalidToken("malformed claims")
    # Names this version does not know (a newer gateway issued the token) grant nothing.
    return Principal(
        subject=subject,
        roles=frozenset(Role(r) for r in roles if r in _ROLES),
        scopes=frozenset(Scope(s) for s in scope.split() if s in _SCOPES),
        kind=PrincipalKind.USER,
    )
