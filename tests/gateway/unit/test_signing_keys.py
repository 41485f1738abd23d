"""The IdP's keys: cached for their TTL, fetched again for an unknown kid at most once per
interval, kept when the IdP is down, and only usable signing keys taken."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.adapters.jwks import JwksUnavailable
from gateway.service_layer.signing_keys import KeysUnavailable, SigningKeys, usable_keys
from identity_provider import make_ec_key, make_rsa_key

ALGORITHMS = frozenset({"RS256", "ES256"})
RSA, EC = make_rsa_key("rsa-1"), make_ec_key("ec-1")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Jwks:
    """What the IdP answers, counted; ``down`` makes it fail."""

    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys, self.fetches, self.down = list(keys), 0, False

    async def __call__(self) -> list[dict[str, Any]]:
        self.fetches += 1
        await asyncio.sleep(0)  # a real fetch yields to other requests
        if self.down:
            raise JwksUnavailable("connection refused")
        return list(self.keys)


def make_keys(
    jwks: Jwks, clock: Clock, *, ttl_s: float = 300, interval_s: float = 30
) -> SigningKeys:
    return SigningKeys(
        jwks, algorithms=ALGORITHMS, ttl_s=ttl_s, min_refresh_interval_s=interval_s, clock=clock
    )


async def test_keys_are_fetched_once_and_used_until_their_ttl_ends() -> None:
    jwks, clock = Jwks(RSA.jwk(), EC.jwk()), Clock()
    keys = make_keys(jwks, clock, ttl_s=300)

    found = [await keys.key(kid) for kid in ("rsa-1", "ec-1", "rsa-1")]
    clock.now += 299
    await keys.key("rsa-1")

    assert [k.algorithm_name for k in found if k] == ["RS256", "ES256", "RS256"]
    assert jwks.fetches == 1
    clock.now += 1
    await keys.key("rsa-1")
    assert jwks.fetches == 2


async def test_an_unknown_kid_fetches_the_set_again_and_finds_a_rotated_key() -> None:
    jwks, clock = Jwks(RSA.jwk()), Clock()
    keys = make_keys(jwks, clock, interval_s=30)
    await keys.key("rsa-1")
    new = make_rsa_key("rsa-2")
    jwks.keys = [new.jwk()]
    clock.now += 30

    assert await keys.key("rsa-2") is not None
    assert jwks.fetches == 2
    assert await keys.key("rsa-1") is None  # gone from the set: gone here


async def test_a_flood_of_unknown_kids_costs_the_idp_one_fetch_per_interval() -> None:
    jwks, clock = Jwks(RSA.jwk()), Clock()
    keys = make_keys(jwks, clock, interval_s=30)
    await keys.key("rsa-1")

    for n in range(100):
        clock.now += 0.1
        assert await keys.key(f"made-up-{n}") is None
    assert jwks.fetches == 1  # 10 s passed: no refetch yet

    clock.now += 21
    await keys.key("made-up-again")
    assert jwks.fetches == 2


async def test_concurrent_requests_for_an_unknown_kid_wait_for_one_fetch() -> None:
    jwks, clock = Jwks(RSA.jwk()), Clock()
    keys = make_keys(jwks, clock, interval_s=0)

    found = await asyncio.gather(*(keys.key("rsa-1") for _ in range(20)))

    assert all(k is not None for k in found)
    assert jwks.fetches == 1


async def test_keys_in_hand_are_kept_while_the_idp_is_down() -> None:
    jwks, clock = Jwks(RSA.jwk()), Clock()
    keys = make_keys(jwks, clock, ttl_s=60, interval_s=30)
    await keys.key("rsa-1")
    jwks.down = True

    clock.now += 60
    assert await keys.key("rsa-1") is not None
    clock.now += 10
    assert await keys.key("rsa-1") is not None
    assert jwks.fetches == 2  # one failed attempt, then nothing until the interval passes


async def test_without_any_set_the_keys_are_unavailable_rather_than_unknown() -> None:
    jwks, clock = Jwks(RSA.jwk()), Clock()
    jwks.down = True
    keys = make_keys(jwks, clock)

    with pytest.raises(KeysUnavailable):
        await keys.key("rsa-1")


def test_only_signing_keys_with_an_id_and_an_allowed_algorithm_are_taken() -> None:
    ps = RSA.jwk() | {"kid": "ps", "alg": "PS256"}
    encryption = RSA.jwk() | {"kid": "enc", "use": "enc", "alg": "RSA-OAEP"}
    symmetric = {"kty": "oct", "kid": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}
    no_kid = {k: v for k, v in EC.jwk().items() if k != "kid"}
    broken = {"kty": "EC", "kid": "broken", "crv": "P-256", "x": "AA", "y": "AA"}
    unused = {k: v for k, v in RSA.jwk().items() if k not in ("use", "alg")} | {"kid": "bare"}

    keys = usable_keys([RSA.jwk(), ps, encryption, symmetric, no_kid, broken, unused], ALGORITHMS)

    assert sorted(keys) == ["bare", "rsa-1"]
    assert keys["bare"].algorithm_name == "RS256"
