"""What the local sink received, for people checking the embedded stack's messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import sink_sql
from shared.pagination import decode_cursor, encode_cursor
from shared.problems import Problem


@dataclass(frozen=True, slots=True)
class SinkPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


async def received(
    session: AsyncSession, *, channel: str | None, cursor: str | None, limit: int
) -> SinkPage:
    """Newest first, one page at a time."""
    key = decode_cursor(cursor)
    if key is not None and not key.isdigit():
        raise Problem(400, "Invalid cursor", "pass back the next_cursor of a previous page")
    after = None if key is None else int(key)
    rows = await sink_sql.received(session, channel=channel, after=after, limit=limit + 1)
    items = rows[:limit]
    more = len(rows) > limit
    return SinkPage(items, encode_cursor(str(items[-1]["sink_id"])) if more else None)
