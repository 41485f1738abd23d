"""Use case: import a portfolio (loans, schedules, payment history) from NDJSON or CSV files.

The file formats are described in :mod:`monitoring.domain.imports` and ``docs/import.md``.

Rows are read and checked in chunks on a worker thread while the previous chunk is copied
into PostgreSQL, so that Python and the database work at the same time. Everything is loaded
in the caller's transaction; a chunk is loaded only when every row so far is valid, and once a
row is refused nothing more is loaded but every row is still checked, so that the report names
all errors. The use case then raises :class:`ImportRejected` and the caller's unit of work
rolls back: an import is stored whole or not at all.

Loans get the schedule they carry or the contract's; payments are allocated by the ledger's
waterfall (:mod:`monitoring.domain.waterfall`) in ``(paid_at, payment_id)`` order with no
penalty accrued before the import. Each loan is announced by one ``monitoring.loan.registered``
event in the outbox. On an empty platform the business date starts at the latest date of the
files (disbursement or payment); otherwise no row may be dated after it.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters.copy_import import CopyLoader
from monitoring.domain.import_checks import RowChecks
from monitoring.service_layer.import_files import FileRows, Format
from monitoring.service_layer.import_job import ImportJob
from monitoring.service_layer.import_report import ImportRejected, ImportReport

CHUNK_ROWS = 2_500  # two chunks are held at once: ~8 KB of event per loan, and its COPY text


Progress = Callable[[int], None]


async def import_portfolio(
    session: AsyncSession,
    loans: IO[bytes],
    *,
    fmt: Format,
    payments: IO[bytes] | None = None,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportReport:
    """Import loans (and payments) in the session's transaction; ImportRejected on row errors.

    ``progress`` is called with the number of bytes of the loans file read so far.
    """
    started = time.perf_counter()
    loader = await CopyLoader.of(session)
    await loader.prepare()
    products = await loader.products()
    job = ImportJob(products, RowChecks(products, await loader.business_date()), fmt is Format.CSV)
    if payments is not None:
        await asyncio.to_thread(job.read_payments, FileRows(payments, fmt, "payments"))
    with _SWITCHING.faster():
        await _load(job, loader, FileRows(loans, fmt, "loans"), chunk_rows, progress)
    job.orphan_payments()
    report = job.report(loader, time.perf_counter() - started)
    if report.status == "rejected":
        raise ImportRejected(report)
    if job.checks.business_date is None and job.checks.latest is not None:
        await loader.start_business_date(job.checks.latest)
    await loader.finish()
    return report


async def _load(
    job: ImportJob, loader: CopyLoader, rows: FileRows, chunk_rows: int, progress: Progress | None
) -> None:
    """Check chunks on a worker thread, each while the previous one is being loaded."""
    pending = asyncio.ensure_future(asyncio.to_thread(job.prepare, rows, chunk_rows))
    try:
        while (prepared := await pending) is not None:
            pending = asyncio.ensure_future(asyncio.to_thread(job.prepare, rows, chunk_rows))
            await job.check_ids(loader, prepared.ids)
            if prepared.chunk is not None and job.ok:
                await loader.load(prepared.chunk)
            if progress is not None:
                progress(prepared.position)
    finally:
        if not pending.done():
            await asyncio.wait([pending])


class _SwitchInterval:
    """While imports run, threads hand the GIL over every 0.5 ms rather than every 5 ms.

    The event loop drives each COPY in several steps, and at every step it waited for the
    worker thread checking rows to give up the GIL: up to 5 ms, a fifth of an import's time
    while PostgreSQL sat idle. The interval is the process's, so it is set back when the
    last import running ends; other requests meanwhile get the loop sooner too.
    """

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._lock = threading.Lock()
        self._running = 0
        self._saved = sys.getswitchinterval()

    @contextmanager
    def faster(self) -> Iterator[None]:
        with self._lock:
            if self._running == 0:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(min(self._seconds, self._saved))
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0:
                    sys.setswitchinterval(self._saved)


_SWITCHING = _SwitchInterval(0.0005)
