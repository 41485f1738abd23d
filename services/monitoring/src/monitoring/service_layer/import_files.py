"""The rows of an import's files, NDJSON or CSV (formats: :mod:`monitoring.domain.imports`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from enum import StrEnum
from typing import IO, Any

import orjson

from monitoring.domain.imports import (
    LOAN_COLUMNS,
    PAYMENT_COLUMNS,
    REQUIRED_LOAN_COLUMNS,
    REQUIRED_PAYMENT_COLUMNS,
    UNSUPPORTED,
    UNSUPPORTED_COLUMNS,
    RowError,
    loan_body_from_csv,
    payment_body_from_csv,
)


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


Row = tuple[int, Any] | RowError


class FileRows:
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
        known, required, unsupported = LOAN_COLUMNS, REQUIRED_LOAN_COLUMNS, UNSUPPORTED_COLUMNS
    else:
        known, required, unsupported = PAYMENT_COLUMNS, REQUIRED_PAYMENT_COLUMNS, frozenset()
    errors = [
        RowError(file, 1, c, UNSUPPORTED if c in unsupported else "unknown column")
        for c in header
        if c not in known
    ]
    errors += [RowError(file, 1, c, "missing column") for c in sorted(required - set(header))]
    seen = set()
    for c in header:
        if c in seen:
            errors.append(RowError(file, 1, c, "repeated column"))
        seen.add(c)
    return errors
