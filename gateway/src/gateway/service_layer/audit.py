"""The audit log's use cases: append records to the chain, list entries, verify the chain.

Appends go through one :class:`AuditWriter` per gateway process: callers hand it a record and
wait until it is committed; the writer commits whatever has queued up meanwhile in one
transaction (group commit), so that concurrent requests share the lock on the chain's head
and one commit instead of taking turns at both. Replicas serialise on that row lock.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from gateway.adapters import audit_sql
from gateway.adapters.audit_sql import AuditFilter as AuditFilter
from gateway.domain.audit import Anchor, Break, ChainVerifier, Entry, Head, Record, chain
from shared.db import Database

log = logging.getLogger(__name__)

VERIFY_PAGE = 5_000


async def append(db: Database, records: list[Record], *, durable: bool = True) -> list[Entry]:
    """Chain ``records`` after the head, in one transaction (``durable``: its commit waits
    for the WAL flush)."""
    async with db.unit_of_work() as session:
        entries = chain(await audit_sql.lock_head(session, durable=durable), records)
        await audit_sql.append(session, entries)
    return entries


class AuditWriter:
    """Appends records in batches; :meth:`record` returns once its record is committed."""

    def __init__(self, db: Database, *, max_batch: int, durable: bool = True) -> None:
        self._db = db
        self._max_batch = max_batch
        self._durable = durable
        self._queue: list[tuple[Record, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gateway-audit-writer")

    async def close(self) -> None:
        """Commit what is queued, then stop."""
        if self._task is None:
            return
        await self._drain()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def record(self, record: Record) -> None:
        """Append one record; raises when it could not be committed."""
        if self._task is None or self._task.done():
            raise RuntimeError("the audit writer is not running")
        done = asyncio.get_running_loop().create_future()
        self._queue.append((record, done))
        self._wake.set()
        await done

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._drain()

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            try:
                await append(self._db, [record for record, _ in batch], durable=self._durable)
            except Exception as exc:
                log.exception("audit entries could not be appended (%d)", len(batch))
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)


@dataclass(frozen=True)
class Verdict:
    """What a verification found: how many entries it checked, up to which head."""

    checked: int
    head: Head
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


async def verify_log(db: Database, anchors: list[Anchor] | None = None) -> Verdict:
    """Walk the chain page by page, in one snapshot: an entry the head does not account for
    (appended beside the application) is a break too."""
    verifier = ChainVerifier(anchors or ())
    async with db.unit_of_work() as session:
        await audit_sql.snapshot(session)
        head = await audit_sql.read_head(session)
        page = await audit_sql.entries_after(session, 0, limit=VERIFY_PAGE)
        while page and all(verifier.feed(entry) is None for entry in page):
            page = await audit_sql.entries_after(session, page[-1].sequence, limit=VERIFY_PAGE)
    return Verdict(checked=verifier.checked, head=head, broken=verifier.finish(head))


async def find_entries(
    db: Database, wanted: AuditFilter, *, before: int | None, limit: int
) -> list[Entry]:
    """Entries matching ``wanted``, newest first, before sequence ``before``."""
    async with db.unit_of_work() as session:
        return await audit_sql.search(session, wanted, before=before, limit=limit)
