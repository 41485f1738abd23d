"""Who is calling: a user with a token, or a machine client with an API key."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateway.domain.scopes import Role, Scope, scopes_for


class PrincipalKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"
    #: a provider's signed webhook: no credential of ours, no scope; its signature is checked
    #: by the service that owns the route (BRIEF decision 10)
    SIGNED_WEBHOOK = "signed_webhook"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller and the scopes it holds."""

    subject: str
    roles: frozenset[Role]
    scopes: frozenset[Scope]
    kind: PrincipalKind = PrincipalKind.USER

    @classmethod
    def with_roles(
        cls, subject: str, roles: frozenset[Role], kind: PrincipalKind = PrincipalKind.USER
    ) -> Principal:
        return cls(subject=subject, roles=roles, scopes=scopes_for(roles), kind=kind)

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes


SIGNED_WEBHOOK = Principal(
    subject="signed-webhook",
    roles=frozenset(),
    scopes=frozenset(),
    kind=PrincipalKind.SIGNED_WEBHOOK,
)
