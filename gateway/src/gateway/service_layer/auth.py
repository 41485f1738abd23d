"""Authentication use cases: a password for a principal, an API key for a principal."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable

from gateway.adapters import repository
from gateway.adapters.passwords import verify_password
from gateway.domain.principal import Principal, PrincipalKind
from gateway.domain.scopes import Role
from shared.db import Database


class InvalidCredentials(Exception):
    """Unknown user, wrong password or disabled account: the caller is not told which."""


def known_roles(names: Iterable[str]) -> frozenset[Role]:
    """Roles stored by a newer version and unknown to this one grant nothing."""
    return frozenset(Role(n) for n in names if n in _ROLES)


_ROLES = frozenset(Role)


async def check_password(db: Database, username: str, password: str) -> Principal:
    """The principal of an active user whose password this is; else ``InvalidCredentials``."""
    async with db.unit_of_work() as session:
        user = await repository.find_user(session, username)
    matches = await verify_password(user.password_hash if user else None, password)
    if user is None or not matches or not user.active:
        raise InvalidCredentials()
    return Principal.with_roles(user.username, known_roles(user.roles))


def hash_api_key(key: str) -> str:
    """SHA-256 suffices: keys are 256-bit random, so there is nothing to brute-force."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyAuthenticator:
    """Looks keys up by hash, remembering answers briefly so a request costs no query."""

    def __init__(
        self,
        db: Database,
        *,
        ttl_s: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def authenticate(self, key: str) -> Principal | None:
        """The principal of an active key, or None."""
        digest = hash_api_key(key)
        cached = self._cache.get(digest)
        now = self._clock()
        if cached is not None and now - cached[0] < self._ttl_s:
            return cached[1]
        principal = await self._lookup(digest)
        if len(self._cache) >= self._max_entries:
            self._cache.clear()
        self._cache[digest] = (now, principal)
        return principal

    def forget(self) -> None:
        self._cache.clear()

    async def _lookup(self, digest: str) -> Principal | None:
        async with self._db.unit_of_work() as session:
            stored = await repository.find_api_key(session, digest)
        if stored is None or not stored.active:
            return None
        return Principal.with_roles(stored.name, known_roles(stored.roles), PrincipalKind.API_KEY)
