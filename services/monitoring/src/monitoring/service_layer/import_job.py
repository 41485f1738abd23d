"""The state of one import: its rows checked chunk by chunk, encoded while all is well."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from monitoring.adapters.copy_import import CopyLoader, Loaded
from monitoring.adapters.copy_records import Chunk
from monitoring.adapters.import_events import EventBodies
from monitoring.adapters.import_repeats import Repeat
from monitoring.domain.import_checks import RowChecks, check_loan, check_payment
from monitoring.domain.import_fingerprints import payment_fingerprint
from monitoring.domain.import_history import allocate
from monitoring.domain.import_schedules import schedule_of
from monitoring.domain.imports import (
    LoanIn,
    PaymentIn,
    Product,
    RowError,
    csv_column,
    value_date,
)
from monitoring.service_layer.import_files import FileRows
from monitoring.service_layer.import_report import ImportReport
from shared.telemetry import current_traceparent

MAX_REPORTED_ERRORS = 1_000


@dataclass
class ChunkIds:
    """The ids of a chunk's rows in the order read, for the database to find repeats in."""

    loans: list[tuple[str, int]] = field(default_factory=list)  # id, row
    payments: list[tuple[str, str, int]] = field(default_factory=list)  # id, file, row


@dataclass
class PreparedChunk:
    chunk: Chunk | None  # None once a row was refused: nothing more is loaded
    ids: ChunkIds  # of every row that passed its own checks, loaded or not
    position: int  # bytes of the file read so far


@dataclass
class ImportJob:
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

    def read_payments(self, rows: FileRows) -> None:
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

    def prepare(self, rows: FileRows, size: int) -> PreparedChunk | None:
        """Check the next chunk of loans and, while all is well, encode it (worker thread)."""
        chunk: Chunk | None = Chunk()
        ids, count = ChunkIds(), 0
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
        return PreparedChunk(chunk if self.ok else None, ids, rows.tell())

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

    async def check_ids(self, loader: CopyLoader, ids: ChunkIds) -> None:
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
