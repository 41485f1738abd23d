"""Password checks behind the lock-out: per user name and per client address.

While a name or an address is locked, no password is checked at all (a guess during the lock
learns nothing, right or wrong). A failure counts against both; a success clears the name's
count only, so one valid account does not clear an address that guesses at others. Names are
counted whether or not such a user exists, and the answers are the same, so a lock-out does not
reveal which names exist.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.adapters import limits
from gateway.domain.lockout import Failures, LockoutRule, after_failure, locked_for
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
        """The user's principal; ``LockedOut`` while locked, ``InvalidCredentials`` if wrong.

        The name's row stays locked while its password is checked, so concurrent guesses at
        one name are checked one at a time, each after the failures before it are counted (a
        burst of parallel guesses would otherwise all pass the threshold together).
        """
        keys = self._keys(username, address)
        user_key = next(iter(keys))
        async with self._db.unit_of_work() as session:
            await limits.lock_failures(session, [user_key], now=self._clock())
            self._refuse_if_locked(await limits.find_failures(session, keys))
            try:
                principal: Principal | None = await check_password(self._db, username, password)
            except InvalidCredentials:
                principal = None
                await self._count_failure(session, keys)
            else:
                await limits.clear_failures(session, user_key)
        if principal is None:
            raise InvalidCredentials()
        return principal

    def _refuse_if_locked(self, found: dict[str, Failures]) -> None:
        now = self._clock()
        wait = max((locked_for(f, now) for f in found.values()), default=0.0)
        if wait > 0:
            raise LockedOut(wait)

    async def _count_failure(self, session: AsyncSession, keys: dict[str, LockoutRule]) -> None:
        now = self._clock()
        found = await limits.lock_failures(session, keys, now=now)
        after = {k: after_failure(rule, found.get(k), now) for k, rule in keys.items()}
        await limits.save_failures(session, after)
