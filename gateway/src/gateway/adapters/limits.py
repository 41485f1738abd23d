"""The queries of rate limits and login lock-outs: rows locked, read and written back.

Each read locks its rows (``FOR UPDATE``) so that replicas taking from the same bucket, or
counting failures of the same name, wait for each other instead of overwriting each other.
A row is first inserted if missing, so there is always a row to lock: two replicas seeing a
bucket for the first time cannot both think it full.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import RowMapping
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.adapters.tables import LOGIN_FAILURES
from gateway.domain.lockout import Failures
from gateway.domain.ratelimits import Bucket
from shared.db import driver_connection

# A bucket never seen is created full; one that exists is locked and returned unchanged (the
# no-op update takes the row lock), in one statement: this is the hot one.
_LOCK_BUCKET = """
INSERT INTO rate_buckets AS b (bucket_key, tokens, at) VALUES ($1, $2, $3)
ON CONFLICT (bucket_key) DO UPDATE SET bucket_key = b.bucket_key
RETURNING b.tokens, b.at
"""
_SAVE_BUCKET = "UPDATE rate_buckets SET tokens = $2, at = $3 WHERE bucket_key = $1"


async def lock_bucket(session: AsyncSession, key: str, *, full: float, now: datetime) -> Bucket:
    """The bucket ``key``, locked until the transaction ends; a new one starts full.

    On the driver directly: SQLAlchemy's statement building cost more than the statements.
    """
    conn = await driver_connection(session)
    row = await conn.fetchrow(_LOCK_BUCKET, key, full, now)
    return Bucket(tokens=row["tokens"], at=row["at"])


async def save_bucket(session: AsyncSession, key: str, bucket: Bucket) -> None:
    conn = await driver_connection(session)
    await conn.execute(_SAVE_BUCKET, key, bucket.tokens, bucket.at)


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
