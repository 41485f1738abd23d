"""Settings of the current transaction."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession


async def read_only(session: AsyncSession) -> None:
    """Make the rest of the transaction read-only: a write in it fails instead of happening."""
    await session.execute(sa.text("SET TRANSACTION READ ONLY"))
