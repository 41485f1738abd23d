"""Reads that hold for one transaction, and stored documents parsed once per process.

A consumer's batch asks the active strategy of a product, a strategy version or a pack's active
version once, not once per event; an activation committed meanwhile applies from the next batch
(milliseconds later)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Hashable, Mapping
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
_KEY = "collections.batch_cache"


async def once(session: AsyncSession, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
    cache: dict[Hashable, object] = session.info.setdefault(_KEY, {})
    if key not in cache:
        cache[key] = await load()
    return cache[key]  # type: ignore[return-value]


@lru_cache(maxsize=256)
def _parse(parse: Callable[[object], object], document: str) -> object:
    parsed = parse(json.loads(document))
    if isinstance(parsed, list):  # a stored document was valid when uploaded
        raise ValueError(f"a stored document no longer parses: {parsed}")
    return parsed


def parsed(parse: Callable[[object], T | list[Any]], document: Mapping[str, object]) -> T:
    """A stored document parsed once per process (a stored version never changes; its text
    is the cache key, so two databases' same-named versions never mix)."""
    return _parse(parse, json.dumps(document, sort_keys=True))  # type: ignore[return-value]
