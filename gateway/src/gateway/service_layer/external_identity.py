"""Tokens of an external identity provider (Keycloak, ...): RS256/ES256 checked against its JWKS.

A bearer token goes one of two ways, by the algorithm its header names: the gateway's own
HS256 tokens to ``TokenService`` (which accepts nothing else), the allowed asymmetric
algorithms to the IdP's keys. Neither way ever tries the other's key, so a token signed with
HS256 using the IdP's public key as the secret (key confusion) meets only the gateway's own
secret, and ``alg: none`` is accepted by neither. Each key is bound to its algorithm (PyJWK),
so a token cannot pick another one for a key either.

The principal's roles come from the token alone, through the configured mapping; the subject
is the configured claim, so that a collector's cases and a supervisor's team (looked up by
subject in the gateway's directory) are found when the IdP names people as PostLoan does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

import jwt

from gateway.domain.external_claims import (
    ClaimError,
    RoleMapping,
    check_lifetime,
    roles_of,
    subject_of,
)
from gateway.domain.principal import Principal
from gateway.service_layer.signing_keys import Fetch, SigningKeys
from gateway.service_layer.tokens import InvalidToken, TokenService
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

#: The claims PyJWT must find; the subject claim is checked by ``subject_of``.
_REQUIRED = ["exp", "iss", "aud"]
#: Times are checked by ``check_lifetime`` against the injected clock, not PyJWT's own.
_OPTIONS: jwt.types.Options = {
    "require": _REQUIRED,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "enforce_minimum_key_length": True,
}


@dataclass(frozen=True)
class ExternalTokens:
    """Verifies the IdP's tokens: algorithm, key, signature, issuer, audience, lifetime."""

    keys: SigningKeys
    issuer: str
    audience: str
    algorithms: frozenset[str]
    subject_claim: str
    roles: RoleMapping
    leeway_s: float
    clock: Callable[[], float] = time.time

    async def verify(self, token: str, header: Mapping[str, Any] | None = None) -> Principal:
        """The principal a token stands for; ``InvalidToken`` when it must be refused.

        ``header`` is the token's header when the caller has read it already.
        """
        try:
            return await self._verify(token, header or unverified_header(token))
        except InvalidToken as exc:
            # Callers only ever hear "invalid"; whoever configures the IdP needs the reason.
            log.debug("identity provider token refused: %s", exc)
            raise

    async def _verify(self, token: str, header: Mapping[str, Any]) -> Principal:
        algorithm, kid = header.get("alg"), header.get("kid")
        if not self.accepts(algorithm):
            raise InvalidToken(f"algorithm {algorithm!r} is not accepted")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token names no key (kid)")
        key = await self.keys.key(kid)
        if key is None:
            raise InvalidToken(f"the identity provider has no key {kid!r}")
        claims = self._decode(token, key, algorithm)
        try:
            check_lifetime(claims, now=self.clock(), leeway_s=self.leeway_s)
            return Principal.with_roles(
                subject_of(claims, self.subject_claim), roles_of(claims, self.roles)
            )
        except ClaimError as exc:
            raise InvalidToken(str(exc)) from exc

    def accepts(self, algorithm: object) -> TypeGuard[str]:
        """Whether a header's ``alg`` (any JSON value) is one of the IdP's algorithms."""
        return isinstance(algorithm, str) and algorithm in self.algorithms

    def _decode(self, token: str, key: jwt.PyJWK, algorithm: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options=_OPTIONS,
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidToken(str(exc)) from exc


def unverified_header(token: str) -> dict[str, Any]:
    """The header, read only to choose how to verify the token."""
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc


async def verify_bearer(
    token: str, own: TokenService, external: ExternalTokens | None
) -> Principal:
    """A bearer token's principal, from the IdP's keys or the gateway's own secret."""
    if external is not None:
        header = unverified_header(token)
        if external.accepts(header.get("alg")):
            return await external.verify(token, header)
    return own.verify(token)  # HS256 only: everything else, ``none`` included, is refused


def external_tokens(settings: GatewaySettings, fetch: Fetch) -> ExternalTokens:
    """The verifier the settings describe (``settings.idp_jwks_url`` is set)."""
    algorithms = frozenset(settings.idp_algorithms)
    keys = SigningKeys(
        fetch,
        algorithms=algorithms,
        ttl_s=settings.idp_jwks_cache_ttl_s,
        min_refresh_interval_s=settings.idp_jwks_min_refresh_interval_s,
    )
    return ExternalTokens(
        keys=keys,
        issuer=settings.idp_issuer,
        audience=settings.idp_audience,
        algorithms=algorithms,
        subject_claim=settings.idp_subject_claim,
        roles=RoleMapping.parse(settings.idp_roles_claim, settings.idp_role_map),
        leeway_s=settings.idp_leeway_s,
    )
