"""Opaque cursors for keyset pagination (``{"items": [...], "next_cursor": "..."}``).

A cursor that is not one of ours is a 422 problem naming the ``cursor`` parameter, raised
before any query: what it decodes to is compared with stored keys, so it must be text that
PostgreSQL takes (no control characters) and, for time cursors, a time within
:data:`~shared.params.CalendarDate`'s years.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from shared.params import within_dates
from shared.problems import Problem

_HINT = "pass back the next_cursor of a previous page"


def invalid_cursor() -> Problem:
    """The 422 problem for a cursor we did not hand out."""
    return Problem(
        422,
        "Invalid request",
        f"cursor: {_HINT}",
        errors=[{"field": "cursor", "message": f"not a cursor of this list; {_HINT}"}],
    )


def encode_cursor(key: str) -> str:
    """The cursor a client passes back to get the page after ``key``."""
    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    """The key a cursor stands for; a 422 problem when it is not one of ours."""
    if cursor is None:
        return None
    try:
        key = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid_cursor() from None
    if not key or not key.isprintable():
        raise invalid_cursor()
    return key


def encode_time_cursor(at: datetime, ident: str = "") -> str:
    """A cursor after the row at ``at``, ties broken by ``ident`` (time-ordered lists)."""
    return encode_cursor(f"{at.isoformat()}|{ident}")


def decode_time_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """The (timestamp, id) a time cursor stands for; a 422 problem when it is not one of ours."""
    key = decode_cursor(cursor)
    if key is None:
        return None
    at, _, ident = key.partition("|")
    try:
        parsed = datetime.fromisoformat(at)
    except ValueError:
        raise invalid_cursor() from None
    if parsed.tzinfo is None or not within_dates(parsed):
        raise invalid_cursor()
    return parsed, ident
