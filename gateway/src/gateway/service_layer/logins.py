"""Password checks behind the lock-out: per user name and per client address.

While a name or an address is locked, no password is checked at all (a guess during the lock
learns nothing, right or wrong). A failure counts against both; a success clears the name's
count only, so one valid account does not clear an address that guesses at others. Names are
counted whether or not such a user exists, and the answers are the same, so a lock-out does not
reveal which names exist.
"""

from __future__ import annotations

from gateway.adapters import limits
from gateway.domain.lockout import LockoutRule, after_failure, locked_for
from gateway.domain.principal import Principal
from gateway.service_layer.auth import InvalidCredentials, check_password
from shared.clock import Clock
from shared.db import Database

#: Long enough for any real name; a longer one is counted by its first characters.
MAX_KEY_CHARS = 200


class LockedOut(Exception):
    """Too many failed logins for this name or from this address; retry later."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__("too many failed logins")
        self.retry_after_s = retry_after_s


class LoginThrottle:
    """Checks passwords like :func:`check_password`, counting failures in PostgreSQL."""

    def __init__(
        self, db: Database, *, per_user: LockoutRule, per_address: LockoutRule, clock: Clock
    ) -> None:
        self._db = db
        self._rules = {"user": per_user, "address": per_address}
        self._clock = clock

    def _keys(self, username: str, address: str | None) -> dict[str, LockoutRule]:
        keys = {f"user:{username}"[:MAX_KEY_CHARS]: self._rules["user"]}
        if address:
            keys[f"address:{address}"[:MAX_KEY_CHARS]] = self._rules["address"]
        return keys

    async def check_password(self, username: str, password: str, address: str | None) -> Principal:
        """The user's principal; ``LockedOut`` while locked, ``InvalidCredentials`` if wrong."""
        keys = self._keys(username, address)
        await self._refuse_if_locked(keys)
        try:
            principal = await check_password(self._db, username, password)
        except InvalidCredentials:
            await self._count_failure(keys)
            raise
        async with self._db.unit_of_work() as session:
            await limits.clear_failures(session, next(iter(keys)))  # the user's name
        return principal

    async def _refuse_if_locked(self, keys: dict[str, LockoutRule]) -> None:
        now = self._clock()
        async with self._db.unit_of_work() as session:
            found = await limits.find_failures(session, keys)
        wait = max(locked_for(f, now) for f in found.values()) if found else 0.0
        if wait > 0:
            raise LockedOut(wait)

    async def _count_failure(self, keys: dict[str, LockoutRule]) -> None:
        now = self._clock()
        async with self._db.unit_of_work() as session:
            found = await limits.lock_failures(session, keys, now=now)
            after = {k: after_failure(rule, found.get(k), now) for k, rule in keys.items()}
            await limits.save_failures(session, after)
