"""Per-principal, per-route-class rate limits, shared by every replica through PostgreSQL.

Why leases: the gateway adds a few milliseconds at most to a call (BRIEF section 8), and a
database round trip per call would take most of them under load, and serialise every call of a
busy principal on one row. So each replica takes tokens from the shared bucket a few at a
time (a *lease*: what the bucket refills in ``lease_s``, at most a tenth of the burst) and
spends them locally; only when its lease is spent does it go to the database again, one
call per principal and class at a time. No more calls pass than the shared bucket grants:
a lease unspent when it expires (after ``LEASE_TTL``) is given up, not returned, so a
replica that went quiet gives its share up. The price is that a replica may refuse a call
while another still holds a few leased tokens: at most one lease per replica.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from gateway.adapters import limits
from gateway.domain.ratelimits import BucketRule, RouteClass, Taken, lease_size, take
from shared.clock import Clock
from shared.db import Database

log = logging.getLogger(__name__)

#: How long a replica may keep leased tokens before giving them up.
LEASE_TTL = timedelta(seconds=1)


@dataclass
class _Lease:
    tokens: int
    expires: datetime


class RateLimited(Exception):
    """The caller's bucket for this class is empty; one more token in ``retry_after_s``."""

    def __init__(self, route_class: RouteClass, retry_after_s: float) -> None:
        super().__init__(f"the {route_class} limit is spent")
        self.route_class = route_class
        self.retry_after_s = retry_after_s


class RateLimiter:
    """Takes one token per call from the caller's bucket of the call's class."""

    def __init__(
        self,
        db: Database,
        rules: Mapping[RouteClass, BucketRule],
        *,
        lease_s: float,
        clock: Clock,
        max_entries: int = 10_000,
    ) -> None:
        self._db = db
        self._rules = dict(rules)
        self._lease_s = lease_s
        self._clock = clock
        self._max_entries = max_entries
        self._leases: dict[str, _Lease] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def spend(self, caller: str, route_class: RouteClass) -> None:
        """One call of ``caller`` (``user:…``, ``api_key:…``, ``address:…``); else
        ``RateLimited``."""
        key = f"{route_class}:{caller}"
        if self._spend_leased(key):
            return
        lock = self._locks.get(key) or self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # one lease at a time per bucket; the others wait for it
            if self._spend_leased(key):
                return
            await self._lease(key, route_class)

    def _spend_leased(self, key: str) -> bool:
        lease = self._leases.get(key)
        if lease is None or lease.tokens < 1 or lease.expires <= self._clock():
            return False
        lease.tokens -= 1
        return True

    async def _lease(self, key: str, route_class: RouteClass) -> None:
        rule, now = self._rules[route_class], self._clock()
        try:
            taken = await self._take(key, rule, now)
        except (SQLAlchemyError, OSError):
            # Open, not shut: the limits share capacity fairly, and an outage of their store
            # must not become an outage of the API (tokens are checked without the database).
            log.warning("rate limits unavailable: the database is unreachable", exc_info=True)
            return
        if not taken.granted:
            raise RateLimited(route_class, taken.retry_after_s)
        self._forget_if_full()
        self._leases[key] = _Lease(tokens=taken.granted - 1, expires=now + LEASE_TTL)

    async def _take(self, key: str, rule: BucketRule, now: datetime) -> Taken:
        async with self._db.unit_of_work() as session:
            bucket = await limits.lock_bucket(session, key, full=rule.capacity, now=now)
            taken = take(rule, bucket, now, lease_size(rule, self._lease_s))
            await limits.save_bucket(session, key, taken.bucket)
        return taken

    def _forget_if_full(self) -> None:
        """Bounded memory: past ``max_entries`` buckets, expired leases and idle locks go."""
        if len(self._locks) < self._max_entries:
            return
        now = self._clock()
        self._leases = {k: v for k, v in self._leases.items() if v.expires > now}
        self._locks = {k: v for k, v in self._locks.items() if v.locked()}
