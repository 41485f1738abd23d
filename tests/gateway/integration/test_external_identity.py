"""An identity provider's tokens through the real gateway: its JWKS served over HTTP by a local
server, keys generated here. Accepted when the IdP signed them for us and they are valid now;
every other token is a 401 problem, like the gateway's own invalid tokens."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import jwt
import pytest

from devstack.embedded import free_port
from gateway.main import create_app
from identity_provider import (
    AUDIENCE,
    ISSUER,
    JWKS_PATH,
    ROLE_MAP,
    IdentityProvider,
    SigningKey,
    hand_made,
    make_claims,
    make_ec_key,
    make_rsa_key,
    unsigned,
    with_public_key_as_hmac_secret,
)
from postloan_testing.servers import running, serving
from principals import PRINCIPAL_SECRET
from shared.principal import Principal, verify

PROBLEM = "application/problem+json"
ADMIN_PASSWORD = "admin-password-for-tests"  # tests/gateway/conftest.py
RSA, EC = make_rsa_key(), make_ec_key()
SettingsOf = Callable[..., Any]


def idp_settings(jwks_url: str, **overrides: Any) -> dict[str, Any]:
    """As an operator configures Keycloak (docs/security.md)."""
    values = {
        "idp_jwks_url": jwks_url,
        "idp_issuer": ISSUER,
        "idp_audience": AUDIENCE,
        "idp_role_map": ROLE_MAP,
        "idp_leeway_s": 5,
        # every unknown kid refetches here, so that each rotation is seen at once; the
        # interval's own test has a gateway of its own
        "idp_jwks_min_refresh_interval_s": 0,
    }
    return values | overrides


@pytest.fixture(scope="module")
async def idp_server() -> AsyncIterator[tuple[IdentityProvider, str]]:
    idp = IdentityProvider()
    async with serving(idp.app()) as url:
        yield idp, url + JWKS_PATH


@pytest.fixture
def idp(idp_server: tuple[IdentityProvider, str]) -> IdentityProvider:
    """The IdP, publishing the RSA and the EC key again whatever the last test did."""
    provider = idp_server[0]
    provider.keys = [RSA, EC]
    return provider


@pytest.fixture(scope="module")
async def idp_api(
    idp_server: tuple[IdentityProvider, str], settings_of: SettingsOf
) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway trusting the IdP, beside its own HS256 tokens."""
    settings = await settings_of(**idp_settings(idp_server[1]))
    async with running(create_app(settings)) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def own_token(api: httpx.AsyncClient) -> str:
    """A token of the gateway's own login, for its admin."""
    form = {"username": "admin", "password": ADMIN_PASSWORD}
    token: str = (await api.post("/api/v1/auth/token", data=form)).json()["access_token"]
    return token


def forwarded(answer: httpx.Response) -> Principal:
    """The principal the upstream received, checked as a service checks it."""
    body = answer.json()
    return verify(
        body["headers"]["x-postloan-principal"],
        secret=PRINCIPAL_SECRET,
        method="GET",
        path=body["path"],
        now=time.time(),
    )


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert response.json()["detail"] == "the token is invalid or has expired"


@pytest.mark.parametrize("key", [RSA, EC], ids=["RS256", "ES256"])
async def test_an_idp_token_reaches_the_service_as_its_user_with_the_mapped_roles(
    idp_api: httpx.AsyncClient, idp: IdentityProvider, key: SigningKey
) -> None:
    token = key.sign(make_claims(sub="ida", realm_access={"roles": ["pl-auditor", "uma"]}))

    answer = await idp_api.get("/api/v1/loans/L-1", headers=bearer(token))

    assert answer.status_code == 200, answer.text
    principal = forwarded(answer)
    assert (principal.subject, principal.kind, principal.roles) == (
        "ida",
        "user",
        frozenset({"auditor"}),
    )
    assert "loans:read" in principal.scopes


async def test_a_collector_from_the_idp_sees_only_the_cases_assigned_to_their_subject(
    idp_api: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    """Neither user is in the gateway's user table: their roles come from the token alone."""
    alice, bob = (RSA.sign(make_claims(sub=name)) for name in ("alice", "bob"))

    mine = await idp_api.get("/api/v1/cases?borrower_id=B-0001", headers=bearer(alice))
    theirs = await idp_api.get("/api/v1/cases?borrower_id=B-0001", headers=bearer(bob))

    assert mine.json()["items"] == [{"case_id": "C-B-0001"}]
    assert theirs.status_code == 200
    assert theirs.json()["items"] == []


async def test_an_idp_user_the_gateway_knows_gets_its_attributes_but_the_tokens_roles(
    idp_api: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    admin = await own_token(idp_api)
    name = f"sam-{uuid.uuid4().hex[:8]}"
    user = {"username": name, "password": "x" * 12, "roles": ["collector"], "skills": ["early"]}
    assert (await idp_api.post("/api/v1/users", json=user, headers=bearer(admin))).is_success
    token = RSA.sign(make_claims(sub=name, realm_access={"roles": ["pl-auditor"]}))

    principal = forwarded(await idp_api.get("/api/v1/loans/L-1", headers=bearer(token)))

    assert principal.roles == frozenset({"auditor"})
    assert principal.attributes.skills == ("early",)


async def test_a_user_the_mapping_gives_no_role_is_known_but_may_do_nothing(
    idp_api: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    token = EC.sign(make_claims(realm_access={"roles": ["offline_access", "admin"]}))

    response = await idp_api.get("/api/v1/loans/L-1", headers=bearer(token))

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert "loans:read" in response.json()["detail"]


async def test_the_gateways_own_login_tokens_still_work_beside_the_idps(
    idp_api: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    answer = await idp_api.get("/api/v1/loans/L-1", headers=bearer(await own_token(idp_api)))

    assert forwarded(answer).subject == "admin"


def _without(claim: str) -> dict[str, Any]:
    return {k: v for k, v in make_claims().items() if k != claim}


REFUSED: dict[str, Callable[[], str]] = {
    "forged signature": lambda: make_rsa_key(RSA.kid).sign(make_claims()),
    "expired": lambda: RSA.sign(make_claims(now=time.time() - 600)),
    "not yet valid": lambda: EC.sign(make_claims(nbf=int(time.time()) + 120)),
    "wrong issuer": lambda: RSA.sign(make_claims(iss="https://idp.test/realms/other")),
    "wrong audience": lambda: RSA.sign(make_claims(aud=["another-api", "account"])),
    "no audience": lambda: RSA.sign(_without("aud")),
    "no expiry": lambda: EC.sign(_without("exp")),
    "alg none": lambda: unsigned(make_claims(), kid=RSA.kid),
    "key confusion": lambda: with_public_key_as_hmac_secret(RSA, make_claims()),
    "unknown kid": lambda: make_ec_key("never-published").sign(make_claims()),
    "EC algorithm on the RSA key": lambda: EC.sign(make_claims(), kid=RSA.kid),
    "control characters in the subject": lambda: RSA.sign(make_claims(sub="a\r\nX-Evil: 1")),
    "alg a list": lambda: hand_made({"alg": ["RS256"], "kid": RSA.kid}, make_claims()),
    "algorithm not allowed": lambda: jwt.encode(
        make_claims(), RSA.private, algorithm="PS256", headers={"kid": RSA.kid}
    ),
}


@pytest.mark.parametrize("make_token", REFUSED.values(), ids=REFUSED.keys())
async def test_a_token_the_idp_did_not_issue_for_us_now_is_refused_with_401(
    idp_api: httpx.AsyncClient, idp: IdentityProvider, make_token: Callable[[], str]
) -> None:
    assert_refused(await idp_api.get("/api/v1/loans/L-1", headers=bearer(make_token())))


async def test_after_a_rotation_new_keys_are_fetched_and_removed_ones_refused(
    idp_api: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    before = RSA.sign(make_claims())
    assert (await idp_api.get("/api/v1/loans/L-1", headers=bearer(before))).status_code == 200
    rotated = make_rsa_key()
    idp.keys = [rotated, EC]  # the IdP switches to a new kid and drops the old one
    fetches = idp.fetches

    after = await idp_api.get("/api/v1/loans/L-1", headers=bearer(rotated.sign(make_claims())))
    assert after.status_code == 200, after.text
    assert idp.fetches == fetches + 1  # the new kid made the gateway fetch the set again

    assert_refused(await idp_api.get("/api/v1/loans/L-1", headers=bearer(before)))


async def test_a_flood_of_unknown_kids_makes_at_most_one_fetch_per_interval(
    idp_server: tuple[IdentityProvider, str], idp: IdentityProvider, settings_of: SettingsOf
) -> None:
    settings = await settings_of(**idp_settings(idp_server[1], idp_jwks_min_refresh_interval_s=60))
    async with running(create_app(settings)) as api:
        good = await api.get("/api/v1/loans/L-1", headers=bearer(RSA.sign(make_claims())))
        fetches = idp.fetches
        flood = [
            await api.get("/api/v1/loans/L-1", headers=bearer(EC.sign(make_claims(), kid=f"k{n}")))
            for n in range(30)
        ]

    assert good.status_code == 200
    for response in flood:
        assert_refused(response)
    assert idp.fetches == fetches  # fetched for the first token; none since, within 60 s


async def test_while_the_idp_cannot_be_reached_its_tokens_get_503_and_own_tokens_pass(
    settings_of: SettingsOf,
) -> None:
    nothing_listens = f"http://127.0.0.1:{free_port()}{JWKS_PATH}"
    settings = await settings_of(**idp_settings(nothing_listens))
    async with running(create_app(settings)) as api:
        response = await api.get("/api/v1/loans/L-1", headers=bearer(RSA.sign(make_claims())))
        answer = await api.get("/api/v1/loans/L-1", headers=bearer(await own_token(api)))

    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert "identity provider" in response.json()["detail"]
    assert answer.status_code == 200
