"""Structured JSON logs carrying the trace id; personal data is masked before it is written.

Masking is the last line of defence: code does not log request bodies, borrowers or messages in
the first place (see docs/operations.md, "Personal data in logs and traces"). What is masked here
is what leaks by accident: values quoted in exception texts (pydantic's ``input_value``,
SQLAlchemy's ``[parameters: ...]``, PostgreSQL's ``Key (...)=(...)`` and ``Failing row
contains (...)``) and anything shaped like an e-mail address, an identity, card or phone number.
The same :func:`redact` cleans exported spans (``shared.telemetry``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

_HIDDEN = "<hidden>"
#: Not inside a word, an id (``L-0000000001``, a UUID), a decimal (``1234567890.00``) or a
#: time; a full stop or colon that ends a sentence does not protect a number.
_BEFORE = r"(?<![\w.:])(?<!\w-)"
_AFTER = r"(?!\w|[.:]\d)"
#: A leading ISO date (``2026-02-16 10``) is a time stamp, not a phone number.
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")


def _number(found: re.Match[str]) -> str:
    return found.group(0) if _ISO_DATE.match(found.group(0)) else "<number>"


_PII_PATTERNS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # Values quoted by libraries in their error texts, whatever they hold (names included).
    (re.compile(r"input_value=.*?(?=, input_type=)"), f"input_value={_HIDDEN}"),
    (re.compile(r"\[parameters: .*"), f"[parameters: {_HIDDEN}]"),
    (
        re.compile(r"(Key \([^)]*\))=\(.*?\)(?= already exists| is not present|\.|$)", re.M),
        rf"\1=({_HIDDEN})",
    ),
    (re.compile(r"Failing row contains \(.*\)"), f"Failing row contains ({_HIDDEN})"),
    # What personal data looks like in free text.
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "<email>"),
    (re.compile(_BEFORE + r"\d{17}[\dXx]" + _AFTER), "<national-id>"),
    (re.compile(_BEFORE + r"\d{3}-\d{2}-\d{4}" + _AFTER), "<national-id>"),
    # Phone and card numbers: ten digits or more, grouped by single spaces or dashes.
    (re.compile(_BEFORE + r"\+?\d(?:[ -]?\d){9,}" + _AFTER), _number),
)


def redact(text: str) -> str:
    """``text`` with quoted values and anything shaped like personal data masked."""
    for pattern, replacement in _PII_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = format(span.trace_id, "032x")
            entry["span_id"] = format(span.span_id, "016x")
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class RedactingFormatter(logging.Formatter):
    """Plain-text logs: masks the message and traceback, not the timestamp."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = redact(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:
        return redact(super().formatException(ei))


#: Loggers that libraries configure with handlers of their own (uvicorn's ``--log-config``):
#: sent to the root handler instead, so that their lines are masked too.
_OWN_HANDLERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def setup_logging(service: str, *, level: str = "INFO", as_json: bool = True) -> None:
    """Configure the root logger once per process; every line goes through :func:`redact`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(service)
        if as_json
        else RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _OWN_HANDLERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    for noisy in ("nats", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
