"""Tokens: issued with the principal's scopes, refused when anything is off."""

from __future__ import annotations

import time

import jwt
import pytest

from gateway.domain.principal import Principal
from gateway.domain.scopes import Role, Scope
from gateway.service_layer.tokens import InvalidToken, TokenService

SECRET = "unit-test-signing-key-" + "x" * 42


def make_service(*, clock_offset: float = 0.0, **overrides: str) -> TokenService:
    values = {"issuer": "postloan", "audience": "postloan-api", "secret": SECRET} | overrides
    return TokenService(
        secret=values["secret"],
        issuer=values["issuer"],
        audience=values["audience"],
        ttl_s=900,
        clock=lambda: time.time() + clock_offset,
    )


ANA = Principal.with_roles("ana", frozenset({Role.COLLECTOR}))


def test_a_token_round_trips_to_the_same_principal() -> None:
    service = make_service()

    principal = service.verify(service.issue(ANA).access_token)

    assert principal == ANA


def test_a_token_names_its_algorithm_and_carries_the_scopes() -> None:
    token = make_service().issue(ANA).access_token

    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert Scope.CASES_WRITE in jwt.decode(token, options={"verify_signature": False})["scope"]


@pytest.mark.parametrize(
    "issuer",
    [
        make_service(clock_offset=-3600),
        make_service(secret="another-key-" + "y" * 52),
        make_service(issuer="elsewhere"),
        make_service(audience="another-api"),
    ],
    ids=["expired", "another key", "another issuer", "another audience"],
)
def test_a_token_is_refused_when_it_is_expired_forged_or_meant_for_another(
    issuer: TokenService,
) -> None:
    token = issuer.issue(ANA).access_token

    with pytest.raises(InvalidToken):
        make_service().verify(token)


def test_scopes_this_version_does_not_know_grant_nothing() -> None:
    now = int(time.time())
    claims = {"sub": "x", "iss": "postloan", "aud": "postloan-api", "iat": now, "exp": now + 60}
    token = jwt.encode(claims | {"scope": "loans:read teleport:anywhere"}, SECRET)

    assert make_service().verify(token).scopes == frozenset({Scope.LOANS_READ})
