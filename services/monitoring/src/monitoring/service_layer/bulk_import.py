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
import csv
import io
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice
from typing import IO, Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters.copy_import import Chunk, CopyLoader, EventBodies, Loaded, Repeat
from monitoring.domain.imports import (
    LOAN_COLUMNS,
    PAYMENT_COLUMNS,
    REQUIRED_LOAN_COLUMNS,
    REQUIRED_PAYMENT_COLUMNS,
    LoanIn,
    PaymentIn,
    Product,
    RowChecks,
    RowError,
    allocate,
    check_loan,
    check_payment,
    csv_column,
    loan_body_from_csv,
    payment_body_from_csv,
    payment_fingerprint,
    schedule_of,
    value_date,
)
from shared.problems import Problem
from shared.telemetry import current_traceparent

CHUNK_ROWS = 2_500  # two chunks are held at once: ~8 KB of event per loan, and its COPY text
MAX_REPORTED_ERRORS = 1_000


class Format(StrEnum):
    NDJSON = "ndjson"
    CSV = "csv"


def format_of(filename: str) -> Format | None:
    """The format a file name says (``.ndjson``/``.jsonl``/``.csv``), or None."""
    name = filename.lower()
    if name.endswith((".ndjson", ".jsonl")):
        return Format.NDJSON
    if name.endswith(".csv"):
        return Format.CSV
    return None


@dataclass
class ImportReport:
    """What an import stored, or why it stored nothing."""

    status: str  # "imported" | "rejected"
    loaded: Loaded
    error_count: int
    errors: list[RowError]
    seconds: float
    skipped_triggers: bool = False

    def as_dict(self) -> dict[str, Any]:
        n = self.loaded
        return {
            "status": self.status,
            "loans": n.loans,
            "borrowers": n.borrowers,
            "instalments": n.instalments,
            "payments": n.payments,
            "error_count": self.error_count,
            "errors": [
                {"file": e.file, "row": e.row, "field": e.field, "reason": e.reason}
                for e in self.errors
            ],
            "seconds": round(self.seconds, 3),
        }


class ImportRejected(Problem):
    """Rows were refused: nothing was imported (the caller's transaction rolls back)."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        body = report.as_dict()
        detail = f"{report.error_count} row errors; nothing was imported"
        super().__init__(
            422,
            "Import rejected",
            detail,
            errors=body["errors"],
            error_count=report.error_count,
        )


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
    job = _Job(products, RowChecks(products, await loader.business_date()), fmt is Format.CSV)
    if payments is not None:
        await asyncio.to_thread(job.read_payments, _Rows(payments, fmt, "payments"))
    with _SWITCHING.faster():
        await _load(job, loader, _Rows(loans, fmt, "loans"), chunk_rows, progress)
    job.orphan_payments()
    report = job.report(loader, time.perf_counter() - started)
    if report.status == "rejected":
        raise ImportRejected(report)
    if job.checks.business_date is None and job.checks.latest is not None:
        await loader.start_business_date(job.checks.latest)
    await loader.finish()
    return report


async def _load(
    job: _Job, loader: CopyLoader, rows: _Rows, chunk_rows: int, progress: Progress | None
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


# --- reading files -----------------------------------------------------------------------------

Row = tuple[int, Any] | RowError


class _Rows:
    """A file's rows as ``(row number, body)``, or a :class:`RowError` for an unreadable one."""

    def __init__(self, f: IO[bytes], fmt: Format, file: str) -> None:
        self._f = f
        self._rows = self._ndjson() if fmt is Format.NDJSON else self._csv(file)

    def __iter__(self) -> Iterator[Row]:
        return self._rows

    def tell(self) -> int:
        return self._f.tell()

    def _ndjson(self) -> Iterator[Row]:
        for n, line in enumerate(self._f, start=1):
            if not line.strip():
                continue
            try:
                yield n, orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield RowError("loans", n, "row", f"malformed JSON: {exc}")

    def _csv(self, file: str) -> Iterator[Row]:
        text = io.TextIOWrapper(self._f, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        n = 1
        try:
            header = next(reader, None)
            if header is None:
                yield RowError(file, 1, "row", "empty file: a header row is required")
                return
            if bad := _header_errors(header, file):
                yield from bad
                return
            to_body = loan_body_from_csv if file == "loans" else payment_body_from_csv
            for values in reader:
                n += 1
                if len(values) != len(header):
                    reason = f"expected {len(header)} fields, found {len(values)}"
                    yield RowError(file, n, "row", reason)
                    continue
                yield n, to_body(dict(zip(header, values, strict=True)))
        except (csv.Error, UnicodeDecodeError) as exc:
            yield RowError(file, n + 1, "row", f"unreadable CSV: {exc}")
        finally:
            text.detach()  # the caller's file stays open


def _header_errors(header: list[str], file: str) -> list[RowError]:
    if file == "loans":
        known, required = LOAN_COLUMNS, REQUIRED_LOAN_COLUMNS
    else:
        known, required = PAYMENT_COLUMNS, REQUIRED_PAYMENT_COLUMNS
    errors = [RowError(file, 1, c, "unknown column") for c in header if c not in known]
    errors += [RowError(file, 1, c, "missing column") for c in sorted(required - set(header))]
    seen = set()
    for c in header:
        if c in seen:
            errors.append(RowError(file, 1, c, "repeated column"))
        seen.add(c)
    return errors


# --- the job -------------------------------------------------------------------------------


@dataclass
class _Ids:
    """The ids of a chunk's rows in the order read, for the database to find repeats in."""

    loans: list[tuple[str, int]] = field(default_factory=list)  # id, row
    payments: list[tuple[str, str, int]] = field(default_factory=list)  # id, file, row


@dataclass
class _Prepared:
    chunk: Chunk | None  # None once a row was refused: nothing more is loaded
    ids: _Ids  # of every row that passed its own checks, loaded or not
    position: int  # bytes of the file read so far


@dataclass
class _Job:
    """The state of one import: checks across rows, errors, the payments file by loan."""

    products: dict[str, Product]
    checks: RowChecks
    csv: bool
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    payments_by_loan: dict[str, list[PaymentIn]] = field(default_factory=dict)
    events: EventBodies = field(default_factory=lambda: EventBodies(current_traceparent()))

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def refuse(self, errors: list[RowError]) -> None:
        if self.csv:
            errors = [_as_column(e) for e in errors]
        self.error_count += len(errors)
        room = MAX_REPORTED_ERRORS - len(self.errors)
        if room > 0:
            self.errors += errors[:room]

    def read_payments(self, rows: _Rows) -> None:
        """The payments file, checked row by row and kept by loan."""
        for item in rows:
            if isinstance(item, RowError):
                self.refuse([item])
                continue
            n, body = item
            checked = check_payment(body, file="payments", row=n)
            if isinstance(checked, list):
                self.refuse(checked)
            else:
                self.payments_by_loan.setdefault(checked.loan_id, []).append(checked)

    def prepare(self, rows: _Rows, size: int) -> _Prepared | None:
        """Check the next chunk of loans and, while all is well, encode it (worker thread)."""
        chunk: Chunk | None = Chunk()
        ids, count = _Ids(), 0
        for item in islice(rows, size):  # one parsed row at a time: only the COPY text stays
            count += 1
            if isinstance(item, RowError):
                self.refuse([item])
                continue
            n, body = item
            loan = check_loan(body, row=n)
            if isinstance(loan, list):
                self.refuse(loan)
                continue
            errors = self.checks.loan(loan) + self._attach_payments(loan, body)
            ids.loans.append((loan.loan_id, n))
            ids.payments += [(p.payment_id, p.file, p.row) for p in loan.payments]
            if errors:
                self.refuse(errors)
            elif self.ok and chunk is not None:
                self._encode(chunk, loan)
        if not count:
            return None
        return _Prepared(chunk if self.ok else None, ids, rows.tell())

    def _attach_payments(self, loan: LoanIn, body: Any) -> list[RowError]:
        errors: list[RowError] = []
        nested = body.get("payments") if isinstance(body, dict) else None
        if nested is not None:
            if not isinstance(nested, list):
                return [RowError("loans", loan.row, "payments", "must be a list")]
            for i, p in enumerate(nested):
                checked = check_payment(p, file="loans", row=loan.row, loan_id=loan.loan_id)
                if isinstance(checked, list):
                    errors += [_nested(e, i) for e in checked]
                else:
                    loan.payments.append(checked)
        loan.payments += self.payments_by_loan.pop(loan.loan_id, [])
        for payment in loan.payments:
            errors += self.checks.payment(payment, loan)
        return errors

    def _encode(self, chunk: Chunk, loan: LoanIn) -> None:
        product = self.products[loan.product]
        schedule, history = None, None
        if loan.schedule is not None or loan.payments:
            schedule = schedule_of(loan)
        if loan.payments:
            history = allocate(loan, schedule or [], product.waterfall)
        chunk.add(
            loan,
            schedule=schedule,
            history=history,
            product=product,
            events=self.events,
            payment_fingerprints=[payment_fingerprint(p) for p in loan.payments],
            booked_on=[value_date(p, loan) for p in loan.payments],
        )

    async def check_ids(self, loader: CopyLoader, ids: _Ids) -> None:
        """Ids repeated in the files, or already in the ledger, are row errors."""
        loans = await loader.repeats("loan", [i for i, _ in ids.loans], [r for _, r in ids.loans])
        paid = [(i, r) for i, _, r in ids.payments]
        payments = await loader.repeats("payment", [i for i, _ in paid], [r for _, r in paid])
        errors = [
            RowError("loans", ids.loans[r.index][1], "loan_id", _repeat(r, "already registered"))
            for r in loans
        ]
        for r in payments:
            _, file, row = ids.payments[r.index]
            errors.append(RowError(file, row, "payment_id", _repeat(r, "already received")))
        if errors:
            self.refuse(errors)

    def orphan_payments(self) -> None:
        """Payments of loans that are not in the loans file."""
        for payments in self.payments_by_loan.values():
            reason = "no such loan in the loans file"
            self.refuse([RowError(p.file, p.row, "loan_id", reason) for p in payments])

    def report(self, loader: CopyLoader, seconds: float) -> ImportReport:
        errors = sorted(self.errors, key=lambda e: (e.file != "loans", e.row))
        if self.ok:
            return ImportReport("imported", loader.loaded, 0, [], seconds, loader.skips_triggers)
        return ImportReport("rejected", Loaded(), self.error_count, errors, seconds)


def _repeat(repeat: Repeat, in_ledger: str) -> str:
    return in_ledger if repeat.first is None else f"duplicate of row {repeat.first}"


def _nested(error: RowError, index: int) -> RowError:
    return RowError(error.file, error.row, f"payments.{index}.{error.field}", error.reason)


def _as_column(error: RowError) -> RowError:
    return RowError(error.file, error.row, csv_column(error.field), error.reason)
