"""The audit chain in PostgreSQL: the head row, the entries, their filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.adapters.tables import AUDIT_HEAD, AUDIT_LOG
from gateway.domain.audit import Entry, Head, Record

HEAD_ID = 1


async def lock_head(session: AsyncSession) -> Head:
    """The chain's head, locked until the transaction ends: appends queue up behind it."""
    query = (
        sa.select(AUDIT_HEAD.c.sequence, AUDIT_HEAD.c.hash)
        .where(AUDIT_HEAD.c.id == HEAD_ID)
        .with_for_update()
    )
    row = (await session.execute(query)).one()
    return Head(row.sequence, row.hash)


async def read_head(session: AsyncSession) -> Head:
    query = sa.select(AUDIT_HEAD.c.sequence, AUDIT_HEAD.c.hash).where(AUDIT_HEAD.c.id == HEAD_ID)
    row = (await session.execute(query)).one()
    return Head(row.sequence, row.hash)


def _row(entry: Entry) -> dict[str, object]:
    r = entry.record
    return {
        "sequence": entry.sequence,
        "recorded_at": r.recorded_at,
        "subject": r.subject,
        "roles": list(r.roles),
        "principal_kind": r.principal_kind,
        "method": r.method,
        "route": r.route,
        "path": r.path,
        "resource_ids": list(r.resource_ids),
        "client": r.client,
        "status": r.status,
        "request_id": r.request_id,
        "trace_id": r.trace_id,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


async def append(session: AsyncSession, entries: list[Entry]) -> None:
    """Insert entries and move the head to the last one (under :func:`lock_head`'s lock)."""
    if not entries:
        return
    await session.execute(sa.insert(AUDIT_LOG), [_row(e) for e in entries])
    last = entries[-1]
    await session.execute(
        sa.update(AUDIT_HEAD)
        .where(AUDIT_HEAD.c.id == HEAD_ID)
        .values(sequence=last.sequence, hash=last.hash)
    )


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
