"""The audit chain in PostgreSQL: the head row, the entries, their filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.adapters.tables import AUDIT_HEAD, AUDIT_LOG
from gateway.domain.audit import Entry, Head, Record
from shared.db import driver_connection

HEAD_ID = 1


#: Fixed texts, prepared once per connection: the hot path of every recorded call.
LOCK_HEAD_SQL = f"SELECT sequence, hash FROM audit_head WHERE id = {HEAD_ID} FOR UPDATE"
APPEND_SQL = f"""
    WITH added AS (
        INSERT INTO audit_log (sequence, recorded_at, subject, roles, principal_kind, method,
            route, path, resource_ids, client, status, request_id, trace_id, prev_hash, hash)
        SELECT e.sequence, e.recorded_at, e.subject, string_to_array(e.roles, ' '),
            e.principal_kind, e.method, e.route, e.path, string_to_array(e.ids, '/'), e.client,
            e.status, e.request_id, e.trace_id, e.prev_hash, e.hash
        FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
            $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::int[],
            $12::text[], $13::text[], $14::text[], $15::text[])
            AS e(sequence, recorded_at, subject, roles, principal_kind, method, route, path,
                 ids, client, status, request_id, trace_id, prev_hash, hash)
    )
    UPDATE audit_head SET sequence = $16, hash = $17 WHERE id = {HEAD_ID}
"""
#: Kept durable unless configured otherwise: the answer waits for the WAL flush.
ASYNCHRONOUS_COMMIT_SQL = "SET LOCAL synchronous_commit = off"


async def lock_head(session: AsyncSession, *, durable: bool = True) -> Head:
    """The chain's head, locked until the transaction ends: appends queue up behind it."""
    conn = await driver_connection(session)
    if not durable:
        await conn.execute(ASYNCHRONOUS_COMMIT_SQL)
    row = await conn.fetchrow(LOCK_HEAD_SQL)
    return Head(row["sequence"], row["hash"])


async def read_head(session: AsyncSession) -> Head:
    query = sa.select(AUDIT_HEAD.c.sequence, AUDIT_HEAD.c.hash).where(AUDIT_HEAD.c.id == HEAD_ID)
    row = (await session.execute(query)).one()
    return Head(row.sequence, row.hash)


def _columns(entries: list[Entry]) -> list[list[object]]:
    """The entries column by column; arrays of arrays as text (ids and roles hold no space
    or slash: the routing refuses such paths, role names are fixed)."""
    rows = [
        (e.sequence, e.record.recorded_at, e.record.subject, " ".join(e.record.roles),
         e.record.principal_kind, e.record.method, e.record.route, e.record.path,
         "/".join(e.record.resource_ids), e.record.client, e.record.status,
         e.record.request_id, e.record.trace_id, e.prev_hash, e.hash)
        for e in entries
    ]  # fmt: skip
    return [list(column) for column in zip(*rows, strict=True)]


async def append(session: AsyncSession, entries: list[Entry]) -> None:
    """Insert entries and move the head to the last one (under :func:`lock_head`'s lock)."""
    if not entries:
        return
    conn = await driver_connection(session)
    last = entries[-1]
    await conn.execute(APPEND_SQL, *_columns(entries), last.sequence, last.hash)


def _entry(m: RowMapping) -> Entry:
    record = Record(
        recorded_at=m["recorded_at"],
        subject=m["subject"],
        roles=tuple(m["roles"]),
        principal_kind=m["principal_kind"],
        method=m["method"],
        route=m["route"],
        path=m["path"],
        resource_ids=tuple(m["resource_ids"]),
        client=m["client"],
        status=m["status"],
        request_id=m["request_id"],
        trace_id=m["trace_id"],
    )
    return Entry(m["sequence"], record, m["prev_hash"], m["hash"])


async def snapshot(session: AsyncSession) -> None:
    """Make the transaction see one moment: the head and the entries as they were together."""
    await session.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))


async def entries_after(session: AsyncSession, after: int, *, limit: int) -> list[Entry]:
    """Entries after sequence ``after``, in sequence order (pages of a verification)."""
    query = (
        sa.select(AUDIT_LOG)
        .where(AUDIT_LOG.c.sequence > after)
        .order_by(AUDIT_LOG.c.sequence)
        .limit(limit)
    )
    return [_entry(m) for m in (await session.execute(query)).mappings()]


@dataclass(frozen=True)
class AuditFilter:
    """What ``GET /api/v1/audit`` narrows by; ``None`` narrows by nothing."""

    subject: str | None = None
    method: str | None = None
    route: str | None = None
    resource_id: str | None = None
    status: int | None = None
    request_id: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def _conditions(f: AuditFilter) -> list[sa.ColumnElement[bool]]:
    c = AUDIT_LOG.c
    equal = {
        c.subject: f.subject,
        c.method: f.method,
        c.route: f.route,
        c.status: f.status,
        c.request_id: f.request_id,
    }
    conditions = [column == value for column, value in equal.items() if value is not None]
    if f.resource_id is not None:
        conditions.append(sa.literal(f.resource_id) == sa.any_(c.resource_ids))
    if f.since is not None:
        conditions.append(c.recorded_at >= f.since)
    if f.until is not None:
        conditions.append(c.recorded_at < f.until)
    return conditions


async def search(
    session: AsyncSession, f: AuditFilter, *, before: int | None, limit: int
) -> list[Entry]:
    """Matching entries, newest first, keyset-paginated on the sequence."""
    query = sa.select(AUDIT_LOG).where(*_conditions(f))
    if before is not None:
        query = query.where(AUDIT_LOG.c.sequence < before)
    query = query.order_by(AUDIT_LOG.c.sequence.desc()).limit(limit)
    return [_entry(m) for m in (await session.execute(query)).mappings()]
