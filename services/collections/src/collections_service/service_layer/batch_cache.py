"""Reads that hold for one transaction: a consumer's batch asks the active strategy of a
product, a strategy version or a pack's active version once, not once per event. An activation
committed meanwhile applies from the next batch (milliseconds later)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
_KEY = "collections.batch_cache"


async def once(session: AsyncSession, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
    cache: dict[Hashable, object] = session.info.setdefault(_KEY, {})
    if key not in cache:
        cache[key] = await load()
    return cache[key]  # type: ignore[return-value]
