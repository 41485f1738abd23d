"""An IdP's tokens: accepted when signed by its key for this audience now, refused otherwise;
and the gateway's own HS256 tokens beside them, each way verified by its own key only."""

from __future__ import annotations

import logging
from typing import Any

import jwt
import pytest

from gateway.domain.external_claims import RoleMapping
from gateway.domain.principal import Principal
from gateway.domain.scopes import Role, Scope
from gateway.service_layer.external_identity import ExternalTokens, verify_bearer
from gateway.service_layer.signing_keys import SigningKeys
from gateway.service_layer.tokens import InvalidToken, TokenService
from identity_provider import (
    AUDIENCE,
    ISSUER,
    ROLE_MAP,
    SigningKey,
    hand_made,
    make_claims,
    make_ec_key,
    make_rsa_key,
    unsigned,
    with_public_key_as_hmac_secret,
)

NOW = 1_800_000_000.0  # far from the wall clock: only the injected clock can make these valid
RSA, EC = make_rsa_key("rsa-1"), make_ec_key("ec-1")
OWN_SECRET = "unit-test-signing-key-" + "x" * 42


def make_verifier(
    *keys: SigningKey, now: float = NOW, subject_claim: str = "sub"
) -> ExternalTokens:
    published = [k.jwk() for k in keys or (RSA, EC)]

    async def fetch() -> list[dict[str, Any]]:
        return published

    algorithms = frozenset({"RS256", "ES256"})
    return ExternalTokens(
        keys=SigningKeys(fetch, algorithms=algorithms, ttl_s=300, min_refresh_interval_s=0),
        issuer=ISSUER,
        audience=AUDIENCE,
        algorithms=algorithms,
        subject_claim=subject_claim,
        roles=RoleMapping.parse("realm_access.roles", {k: Role(v) for k, v in ROLE_MAP.items()}),
        leeway_s=30,
        clock=lambda: now,
    )


def own_tokens() -> TokenService:
    return TokenService(secret=OWN_SECRET, issuer="postloan", audience="postloan-api", ttl_s=900)


@pytest.mark.parametrize("key", [RSA, EC], ids=["RS256", "ES256"])
async def test_a_token_signed_by_the_idp_stands_for_the_user_and_the_mapped_roles(
    key: SigningKey,
) -> None:
    principal = await make_verifier().verify(key.sign(make_claims(now=NOW)))

    assert principal == Principal.with_roles("alice", frozenset({Role.COLLECTOR}))


async def test_the_subject_can_be_another_claim() -> None:
    claims = make_claims(now=NOW, sub="5f0c-uuid", preferred_username="alice")

    principal = await make_verifier(subject_claim="preferred_username").verify(RSA.sign(claims))

    assert principal.subject == "alice"


async def test_a_user_without_a_mapped_role_is_authenticated_with_no_scope() -> None:
    claims = make_claims(now=NOW, realm_access={"roles": ["offline_access"]})

    principal = await make_verifier().verify(RSA.sign(claims))

    assert (principal.subject, principal.roles, principal.scopes) == (
        "alice",
        frozenset(),
        frozenset(),
    )
    assert not principal.allows(Scope.CASES_READ)


def _forged() -> str:
    impostor = make_rsa_key("rsa-1")  # same kid, another private key
    return impostor.sign(make_claims(now=NOW))


REFUSED = {
    "forged signature": _forged,
    "expired": lambda: RSA.sign(make_claims(now=NOW - 400)),
    "not yet valid": lambda: RSA.sign(make_claims(now=NOW, nbf=int(NOW) + 120)),
    "issued in the future": lambda: EC.sign(make_claims(now=NOW + 120)),
    "wrong issuer": lambda: RSA.sign(make_claims(now=NOW, iss="https://evil.test/realms/x")),
    "wrong audience": lambda: RSA.sign(make_claims(now=NOW, aud="another-api")),
    "no audience": lambda: RSA.sign({k: v for k, v in make_claims(now=NOW).items() if k != "aud"}),
    "no expiry": lambda: RSA.sign({k: v for k, v in make_claims(now=NOW).items() if k != "exp"}),
    "no subject": lambda: RSA.sign({k: v for k, v in make_claims(now=NOW).items() if k != "sub"}),
    "alg none": lambda: unsigned(make_claims(now=NOW), kid="rsa-1"),
    "key confusion": lambda: with_public_key_as_hmac_secret(RSA, make_claims(now=NOW)),
    "unknown kid": lambda: make_rsa_key("rsa-9").sign(make_claims(now=NOW)),
    "no kid": lambda: jwt.encode(make_claims(now=NOW), RSA.private, algorithm="RS256"),
    "RSA key, EC algorithm": lambda: EC.sign(make_claims(now=NOW), kid="rsa-1"),
    "algorithm not allowed": lambda: jwt.encode(
        make_claims(now=NOW), RSA.private, algorithm="RS384", headers={"kid": "rsa-1"}
    ),
    "malformed roles": lambda: RSA.sign(make_claims(now=NOW, realm_access={"roles": [1]})),
    "not a JWT": lambda: "not.a.jwt",
    "alg a list": lambda: hand_made({"alg": ["RS256"], "kid": "rsa-1"}, make_claims(now=NOW)),
    "kid an object": lambda: hand_made({"alg": "RS256", "kid": {}}, make_claims(now=NOW)),
}


@pytest.mark.parametrize("make_token", REFUSED.values(), ids=REFUSED.keys())
async def test_a_token_the_idp_did_not_issue_for_us_now_is_refused(make_token: Any) -> None:
    with pytest.raises(InvalidToken):
        await verify_bearer(make_token(), own_tokens(), make_verifier())


async def test_the_gateways_own_tokens_still_pass_beside_the_idps() -> None:
    own = own_tokens()
    ana = Principal.with_roles("ana", frozenset({Role.AUDITOR}))

    assert await verify_bearer(own.issue(ana).access_token, own, make_verifier()) == ana


async def test_without_an_idp_its_tokens_are_refused() -> None:
    with pytest.raises(InvalidToken):
        await verify_bearer(RSA.sign(make_claims()), own_tokens(), None)


async def test_an_hs256_token_signed_with_the_public_key_never_meets_the_public_key() -> None:
    """The attack needs the verifier to key HMAC with the RSA key; here HS256 meets only the
    gateway's secret, which is what refuses it (the IdP's verifier is not even asked)."""
    token = with_public_key_as_hmac_secret(RSA, make_claims(now=NOW))

    with pytest.raises(InvalidToken, match="Signature verification failed"):
        await verify_bearer(token, own_tokens(), make_verifier())
    with pytest.raises(InvalidToken, match="not accepted"):
        await make_verifier().verify(token)


async def test_the_reason_of_a_refusal_is_logged_for_whoever_sets_up_the_idp(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="gateway.service_layer.external_identity")

    with pytest.raises(InvalidToken):
        await make_verifier().verify(RSA.sign(make_claims(now=NOW, aud="another-api")))

    assert "audience" in caplog.text.lower()
