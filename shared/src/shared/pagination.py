"""Opaque cursors for keyset pagination (``{"items": [...], "next_cursor": "..."}``)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from shared.problems import Problem


def encode_cursor(key: str) -> str:
    """The cursor a client passes back to get the page after ``key``."""
    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    """The key a cursor stands for; a 400 problem when it is not one of ours."""
    if cursor is None:
        return None
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Problem(
            400, "Invalid cursor", "pass back the next_cursor of a previous page"
        ) from None


def encode_time_cursor(at: datetime, ident: str = "") -> str:
    """A cursor after the row at ``at``, ties broken by ``ident`` (time-ordered lists)."""
    return encode_cursor(f"{at.isoformat()}|{ident}")


def decode_time_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """The (timestamp, id) a time cursor stands for; a 400 problem when it is not one of ours."""
    key = decode_cursor(cursor)
    if key is None:
        return None
    at, _, ident = key.partition("|")
    try:
        parsed = datetime.fromisoformat(at)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise Problem(400, "Invalid cursor", "pass back the next_cursor of a previous page")
    return parsed, ident
