"""Which compliance pack a message is rendered under (for its opt-out line).

Collections owns packs (BRIEF decision 8) and announces each activation; until notify keeps
those, it knows the packs shipped with PostLoan. Callers pass their session so that a stored
mirror can answer here without changing them.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from shared.compliance import Pack, default_pack

SHIPPED = ("cn", "us")


async def pack_for(session: AsyncSession, pack_id: str) -> Pack | None:
    """The pack named ``pack_id``, or None when notify does not know it."""
    del session  # the shipped packs need no query
    return _shipped(pack_id) if pack_id in SHIPPED else None


@cache
def _shipped(pack_id: str) -> Pack:
    return default_pack(pack_id)
