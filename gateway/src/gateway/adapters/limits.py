"""The queries of rate limits and login lock-outs: rows locked, read and written back.

Each read locks its rows (``FOR UPDATE``) so that replicas taking from the same bucket, or
counting failures of the same name, wait for each other instead of overwriting each other.
A row is first inserted if missing (doing nothing if it exists), so there is always a row to
lock: two replicas seeing a bucket for the first time cannot both think it full.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import RowMapping
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.adapters.tables import LOGIN_FAILURES, RATE_BUCKETS
from gateway.domain.lockout import Failures
from gateway.domain.ratelimits import Bucket


async def lock_bucket(session: AsyncSession, key: str, *, full: float, now: datetime) -> Bucket:
    """The bucket ``key``, locked until the transaction ends; a new one starts full."""
    new = {"bucket_key": key, "tokens": full, "at": now}
    await session.execute(insert(RATE_BUCKETS).values(new).on_conflict_do_nothing())
    query = (
        sa.select(RATE_BUCKETS.c.tokens, RATE_BUCKETS.c.at)
        .where(RATE_BUCKETS.c.bucket_key == key)
        .with_for_update()
    )
    row = (await session.execute(query)).one()
    return Bucket(tokens=row.tokens, at=row.at)


async def save_bucket(session: AsyncSession, key: str, bucket: Bucket) -> None:
    query = (
        sa.update(RATE_BUCKETS)
        .where(RATE_BUCKETS.c.bucket_key == key)
        .values(tokens=bucket.tokens, at=bucket.at)
    )
    await session.execute(query)


def _failures(row: RowMapping) -> Failures:
    return Failures(count=row["count"], last_at=row["last_at"], locked_until=row["locked_until"])


_FAILURE_COLUMNS = (
    LOGIN_FAILURES.c.failure_key,
    LOGIN_FAILURES.c.count,
    LOGIN_FAILURES.c.last_at,
    LOGIN_FAILURES.c.locked_until,
)


async def find_failures(session: AsyncSession, keys: Iterable[str]) -> dict[str, Failures]:
    """The failures recorded for these keys (those with none are absent)."""
    query = sa.select(*_FAILURE_COLUMNS).where(LOGIN_FAILURES.c.failure_key.in_(list(keys)))
    return {row["failure_key"]: _failures(row) for row in (await session.execute(query)).mappings()}


async def lock_failures(
    session: AsyncSession, keys: Iterable[str], *, now: datetime
) -> dict[str, Failures]:
    """The failures of these keys, each locked until the transaction ends (none: count 0)."""
    ordered = sorted(set(keys))  # always in the same order, so two logins cannot deadlock
    new = [{"failure_key": k, "count": 0, "last_at": now} for k in ordered]
    await session.execute(insert(LOGIN_FAILURES).values(new).on_conflict_do_nothing())
    query = (
        sa.select(*_FAILURE_COLUMNS)
        .where(LOGIN_FAILURES.c.failure_key.in_(ordered))
        .order_by(LOGIN_FAILURES.c.failure_key)
        .with_for_update()
    )
    return {row["failure_key"]: _failures(row) for row in (await session.execute(query)).mappings()}


async def save_failures(session: AsyncSession, failures: Mapping[str, Failures]) -> None:
    for key, record in failures.items():
        query = (
            sa.update(LOGIN_FAILURES)
            .where(LOGIN_FAILURES.c.failure_key == key)
            .values(count=record.count, last_at=record.last_at, locked_until=record.locked_until)
        )
        await session.execute(query)


async def clear_failures(session: AsyncSession, key: str) -> None:
    await session.execute(sa.delete(LOGIN_FAILURES).where(LOGIN_FAILURES.c.failure_key == key))
