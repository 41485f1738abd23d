"""The principal the gateway forwards: signed for one call, with the user's attributes.

Services trust nothing else (``shared.principal``): the header is an HMAC-SHA256 over the
principal, its expiry and the call's method and path, keyed with the secret the gateway and the
services share (``POSTLOAN_PRINCIPAL_SECRET``). A user's attributes and a supervisor's team
come from the accounts table through a short cache, so a change reaches the services within
``directory_cache_ttl_s`` without a query per call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.adapters import repository
from gateway.domain.forwarding import HeaderList, identity_headers
from gateway.domain.principal import Principal, PrincipalKind
from shared import principal as trusted
from shared.db import Database


@dataclass(frozen=True)
class Profile:
    """What the directory adds to a user's principal."""

    attributes: trusted.UserAttributes
    team: frozenset[str]


NO_PROFILE = Profile(trusted.UserAttributes(), frozenset())


class Directory:
    """Users' attributes and teams, remembered for ``ttl_s`` seconds."""

    def __init__(
        self,
        db: Database,
        *,
        ttl_s: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db, self._ttl_s, self._max = db, ttl_s, max_entries
        self._clock = clock
        self._cache: dict[str, tuple[float, Profile]] = {}

    async def profile(self, subject: str) -> Profile:
        now = self._clock()
        cached = self._cache.get(subject)
        if cached is not None and now - cached[0] < self._ttl_s:
            return cached[1]
        found = await self._lookup(subject)
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[subject] = (now, found)
        return found

    def forget(self) -> None:
        self._cache.clear()

    async def _lookup(self, subject: str) -> Profile:
        async with self._db.unit_of_work() as session:
            stored = await repository.find_profile(session, subject)
            team = await repository.team_of(session, subject) if stored else []
        if stored is None:
            return NO_PROFILE
        attributes = trusted.UserAttributes(
            supervisor=stored.supervisor,
            skills=stored.skills,
            languages=stored.languages,
            capacity=stored.capacity,
            away=stored.away,
        )
        return Profile(attributes, frozenset(team))


@dataclass(frozen=True)
class Identity:
    """Makes the identity headers of each forwarded call."""

    directory: Directory
    secret: str
    ttl_s: int
    clock: Callable[[], float] = field(default=time.time)

    async def headers(self, principal: Principal, method: str, path: str) -> HeaderList:
        """The headers naming ``principal`` to an upstream, for this method and (decoded) path."""
        profile = NO_PROFILE
        if principal.kind is PrincipalKind.USER:
            profile = await self.directory.profile(principal.subject)
        signed = trusted.sign(
            _trusted(principal, profile),
            secret=self.secret,
            method=method,
            path=path,
            now=self.clock(),
            ttl_s=self.ttl_s,
        )
        return identity_headers(principal, signed)


def _trusted(principal: Principal, profile: Profile) -> trusted.Principal:
    return trusted.Principal(
        subject=principal.subject,
        roles=frozenset(r.value for r in principal.roles),
        scopes=frozenset(s.value for s in principal.scopes),
        kind=principal.kind.value,
        attributes=profile.attributes,
        team=profile.team,
    )
