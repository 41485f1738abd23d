"""Signed principals for tests that call a service directly, as the gateway would.

Services trust only ``X-PostLoan-Principal`` (``shared.principal``); a test client gets
``auth=signed(...)`` and every request it sends is signed for its own method and path.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterable
from urllib.parse import unquote

import httpx

from gateway.domain.scopes import Role, scopes_for
from shared.principal import DEFAULT_TTL_S, PRINCIPAL_HEADER, Principal, UserAttributes, sign

#: The secret tests give services (and gateways in front of them).
PRINCIPAL_SECRET = "test-principal-secret-shared-by-gateway-and-services"


def make_principal(
    subject: str = "admin",
    *roles: Role,
    team: Iterable[str] = (),
    supervisor: str | None = None,
    kind: str = "user",
) -> Principal:
    """A user principal with the scopes its roles grant (``admin`` when no role is given)."""
    granted = roles or (Role.ADMIN,)
    return Principal(
        subject=subject,
        roles=frozenset(r.value for r in granted),
        scopes=frozenset(s.value for s in scopes_for(granted)),
        kind=kind,
        attributes=UserAttributes(supervisor=supervisor),
        team=frozenset(team),
    )


ADMIN = make_principal("admin", Role.ADMIN)


def collector(subject: str, *, supervisor: str | None = None) -> Principal:
    return make_principal(subject, Role.COLLECTOR, supervisor=supervisor)


def supervisor(subject: str, team: Iterable[str]) -> Principal:
    return make_principal(subject, Role.SUPERVISOR, team=team)


class Signed(httpx.Auth):
    """Signs each request for its method and path, ``age_s`` seconds in the past."""

    def __init__(
        self, principal: Principal, *, secret: str = PRINCIPAL_SECRET, age_s: float = 0
    ) -> None:
        self.principal, self.secret, self.age_s = principal, secret, age_s

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[PRINCIPAL_HEADER] = self.header(request.method, request.url.path)
        yield request

    def header(self, method: str, path: str) -> str:
        return sign(
            self.principal,
            secret=self.secret,
            method=method,
            path=unquote(path),
            now=time.time() - self.age_s,
        )


def signed(principal: Principal = ADMIN) -> Signed:
    """``client.get(path, auth=signed(collector("alice")))``."""
    return Signed(principal)


#: ``auth=UNSIGNED`` on one call of a signing client: sent without the principal (``httpx.Auth``
#: itself adds nothing).
UNSIGNED = httpx.Auth()

#: What a service answers without a principal: health, readiness, metrics and its documents.
OPEN_PATHS = ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs")


async def refused_calls(
    client: httpx.AsyncClient, method: str, path: str
) -> dict[str, httpx.Response]:
    """``method path`` sent without the header, with a forged one (another secret), an expired
    one and one signed for another path: what a service must answer 401 to."""
    forged = Signed(ADMIN, secret="forged-principal-secret-of-enough-length")
    expired = Signed(ADMIN, age_s=DEFAULT_TTL_S + 10)
    other_path = {PRINCIPAL_HEADER: Signed(ADMIN).header(method, path + "-other")}
    return {
        "missing": await client.request(method, path, auth=UNSIGNED),
        "forged": await client.request(method, path, auth=forged),
        "expired": await client.request(method, path, auth=expired),
        "other path": await client.request(method, path, headers=other_path, auth=UNSIGNED),
    }


def assert_all_401_problems(answers: dict[str, httpx.Response]) -> None:
    statuses = {why: (r.status_code, r.headers.get("content-type")) for why, r in answers.items()}
    assert statuses == dict.fromkeys(answers, (401, "application/problem+json")), statuses
