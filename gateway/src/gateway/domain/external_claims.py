"""What an identity provider's token says, read as PostLoan reads it: who, which roles, when.

Pure: the claims are a verified token's payload (the signature, issuer and audience were
checked before), the time is passed in. Every function raises ``ClaimError`` when a claim is
missing or malformed, so that the caller refuses the token as a whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.domain.scopes import Role


class ClaimError(ValueError):
    """A claim PostLoan needs is missing, malformed, or says the token is not valid now."""


@dataclass(frozen=True)
class RoleMapping:
    """Where the IdP puts its roles (a dotted path such as ``realm_access.roles``) and which
    PostLoan role each of the IdP's role names stands for."""

    claim_path: tuple[str, ...]
    roles: Mapping[str, Role]

    @classmethod
    def parse(cls, claim_path: str, roles: Mapping[str, Role]) -> RoleMapping:
        return cls(tuple(claim_path.split(".")), dict(roles))


def claim_at(claims: Mapping[str, object], path: tuple[str, ...]) -> object:
    """The value at ``path`` in nested objects, or None where the path ends early."""
    value: object = claims
    for name in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def roles_of(claims: Mapping[str, object], mapping: RoleMapping) -> frozenset[Role]:
    """The PostLoan roles the token's role claim maps to; names not in the mapping grant nothing.

    The claim is a list of names, or one space-separated string (as ``scope`` is); an absent
    claim grants no role, a claim of another shape refuses the token (it is not what the
    operator configured, so guessing could grant too much).
    """
    value = claim_at(claims, mapping.claim_path)
    if value is None:
        return frozenset()
    names = value.split() if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ClaimError(f"claim {'.'.join(mapping.claim_path)} is not a list of role names")
    return frozenset(mapping.roles[n] for n in names if n in mapping.roles)


#: Longer names are no one's; a subject travels in headers to every service.
MAX_SUBJECT_LENGTH = 255


def subject_of(claims: Mapping[str, object], claim: str) -> str:
    """The caller's name: the configured claim, a non-empty printable string (any script)."""
    subject = claims.get(claim)
    if not isinstance(subject, str) or not subject.strip():
        raise ClaimError(f"claim {claim} must be a non-empty string")
    # control characters would split the headers that name the caller to the services
    if not subject.isprintable() or len(subject) > MAX_SUBJECT_LENGTH:
        raise ClaimError(f"claim {claim} must be printable, {MAX_SUBJECT_LENGTH} at most")
    return subject


def check_lifetime(claims: Mapping[str, object], *, now: float, leeway_s: float) -> None:
    """``exp`` is required and in the future; ``nbf`` and ``iat``, when present, are not."""
    expires = _numeric(claims, "exp")
    if expires is None:
        raise ClaimError("claim exp is required")
    if expires <= now - leeway_s:
        raise ClaimError("the token has expired")
    not_before = _numeric(claims, "nbf")
    if not_before is not None and not_before > now + leeway_s:
        raise ClaimError("the token is not yet valid (nbf)")
    issued = _numeric(claims, "iat")
    if issued is not None and issued > now + leeway_s:
        raise ClaimError("the token is not yet valid (iat)")


def _numeric(claims: Mapping[str, object], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    # bool is an int to Python, never a time to a JWT (RFC 7519 NumericDate)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ClaimError(f"claim {name} must be a number of seconds")
    return float(value)
