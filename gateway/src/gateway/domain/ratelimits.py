"""Rate limits: which class a call belongs to, and the token bucket that limits each class.

A principal has one bucket per route class: it holds up to ``capacity`` calls and refills at
``refill_per_s``. The arithmetic is here, with time passed in; where buckets are kept (shared
by the replicas in PostgreSQL) and how a replica takes from them is the service layer's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from gateway.domain.routing import READ, Matched, UnsafePath, resolve
from gateway.domain.scopes import Scope

LOGIN_PATH = "/api/v1/auth/token"

#: Writes that feed the ledger from lender systems: many per second by design.
INGEST_SCOPES = frozenset({Scope.LOANS_WRITE, Scope.PAYMENTS_WRITE, Scope.BUREAU_WRITE})


class RouteClass(StrEnum):
    READS = "reads"
    WRITES = "writes"
    INGEST = "ingest"
    LOGIN = "login"


def classify(method: str, path: str) -> RouteClass:
    """The class of a call: the login, ingest writes, other writes, or reads."""
    if path == LOGIN_PATH:
        return RouteClass.LOGIN
    if method in READ or method == "OPTIONS":
        return RouteClass.READS
    try:
        found = resolve(method, path)
    except UnsafePath:
        return RouteClass.WRITES
    if isinstance(found, Matched) and found.route.scope in INGEST_SCOPES:
        return RouteClass.INGEST
    return RouteClass.WRITES


@dataclass(frozen=True)
class BucketRule:
    """Up to ``capacity`` calls at once, ``refill_per_s`` more each second."""

    capacity: int
    refill_per_s: float

    def __post_init__(self) -> None:
        if self.capacity < 1 or self.refill_per_s <= 0:
            raise ValueError("a bucket needs a capacity of at least 1 and a positive refill")


@dataclass(frozen=True)
class Bucket:
    """What a bucket held at ``at``."""

    tokens: float
    at: datetime


@dataclass(frozen=True)
class Taken:
    """How many tokens were granted, the bucket after, and when one more will be there."""

    granted: int
    bucket: Bucket
    retry_after_s: float


def level(rule: BucketRule, bucket: Bucket | None, now: datetime) -> float:
    """The tokens in the bucket at ``now``: a bucket never seen is full."""
    if bucket is None:
        return float(rule.capacity)
    elapsed = max(0.0, (now - bucket.at).total_seconds())
    return min(float(rule.capacity), bucket.tokens + elapsed * rule.refill_per_s)


def take(rule: BucketRule, bucket: Bucket | None, now: datetime, wanted: int) -> Taken:
    """Grant up to ``wanted`` whole tokens; when none is left, say how long until one is.

    The bucket's time never goes back: replicas' clocks differ a little, and a bucket dated
    by the one behind would be refilled twice for the same seconds by the one ahead.
    """
    tokens = level(rule, bucket, now)
    granted = max(0, min(wanted, math.floor(tokens)))
    left = tokens - granted
    at = now if bucket is None else max(bucket.at, now)
    retry = 0.0 if granted else (1.0 - left) / rule.refill_per_s
    return Taken(granted=granted, bucket=Bucket(tokens=left, at=at), retry_after_s=retry)


def lease_size(rule: BucketRule, lease_s: float) -> int:
    """How many tokens a replica takes at once: the refill of ``lease_s``, at least one, and
    at most a tenth of the burst, so that replicas share a bucket fairly."""
    return max(1, min(round(rule.refill_per_s * lease_s), rule.capacity // 10))


def retry_after_header(seconds: float) -> str:
    """Whole seconds, at least one (``Retry-After`` takes no fractions)."""
    return str(max(1, math.ceil(seconds)))
