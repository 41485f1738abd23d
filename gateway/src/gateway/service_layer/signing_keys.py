"""The identity provider's signing keys by ``kid``, cached, refreshed, rotated.

The set in hand is used for ``ttl_s`` seconds. A token naming a key the set lacks makes the
gateway fetch the set again once, since the IdP may just have rotated its keys; fetches are at
least ``min_refresh_interval_s`` apart, whatever the reason, so that a flood of tokens with
made-up key ids (or an IdP that is down) costs the IdP one request per interval. Concurrent
requests wait for one fetch rather than each making their own. When a fetch fails the keys in
hand are kept: an IdP outage does not log everyone out, and a key it removed stays removed
once a fetch succeeds.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from jwt import PyJWK, PyJWTError

from gateway.adapters.jwks import JwksUnavailable

log = logging.getLogger(__name__)

Fetch = Callable[[], Awaitable[list[dict[str, Any]]]]


class KeysUnavailable(Exception):
    """No key set has been fetched yet, and the IdP cannot be reached."""


def usable_keys(jwks: Iterable[Mapping[str, Any]], algorithms: frozenset[str]) -> dict[str, PyJWK]:
    """Signing keys with an id and one of ``algorithms``; the rest (encryption keys, symmetric
    keys, algorithms not allowed, keys PyJWT cannot read) are left out, never guessed at."""
    keys: dict[str, PyJWK] = {}
    for data in jwks:
        kid, use = data.get("kid"), data.get("use", "sig")
        if not isinstance(kid, str) or use != "sig" or kid in keys:
            continue
        try:
            key = PyJWK(dict(data))
        except PyJWTError:
            continue
        if key.algorithm_name in algorithms:
            keys[kid] = key
    return keys


class SigningKeys:
    """``await keys.key(kid)``: the IdP's key of that id, or None when it has none."""

    def __init__(
        self,
        fetch: Fetch,
        *,
        algorithms: frozenset[str],
        ttl_s: float,
        min_refresh_interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch, self._algorithms = fetch, algorithms
        self._ttl_s, self._min_interval_s, self._clock = ttl_s, min_refresh_interval_s, clock
        self._keys: dict[str, PyJWK] | None = None
        self._fetched_at = -math.inf  # when the set in hand was fetched
        self._attempted_at = -math.inf  # when a fetch last started, whatever its outcome
        self._fetches = 0  # fetches finished: a request that waited for one needs no other
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> PyJWK | None:
        """``KeysUnavailable`` when there is no set at all to look in."""
        if self._expired() and self._may_fetch():
            await self._refresh(self._fetches)
        found = self._find(kid)
        if found is None and self._may_fetch():  # perhaps rotated since the last fetch
            await self._refresh(self._fetches)
            found = self._find(kid)
        if self._keys is None:
            raise KeysUnavailable("the identity provider's keys could not be fetched")
        return found

    def _find(self, kid: str) -> PyJWK | None:
        return None if self._keys is None else self._keys.get(kid)

    def _expired(self) -> bool:
        return self._clock() - self._fetched_at >= self._ttl_s

    def _may_fetch(self) -> bool:
        return self._clock() - self._attempted_at >= self._min_interval_s

    async def _refresh(self, seen_fetches: int) -> None:
        async with self._lock:
            if self._fetches != seen_fetches:
                return  # another request fetched while this one waited: use its answer
            self._attempted_at = self._clock()
            try:
                fetched = await self._fetch()
            except JwksUnavailable as exc:
                log.warning("keeping the signing keys in hand: %s", exc)
                return
            finally:
                self._fetches += 1
            self._keys = usable_keys(fetched, self._algorithms)
            self._fetched_at = self._attempted_at
