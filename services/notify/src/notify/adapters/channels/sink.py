"""The local sink: what would have gone to a provider is kept in notify's own database and
shown at ``GET /api/v1/notify/sink`` (the embedded stack's channels without a provider)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from notify.adapters import sink_sql
from notify.adapters.channels.base import Handed, Outgoing, Transient, with_retries
from notify.domain.retry import RetryPolicy
from shared.db import Database
from shared.messaging.errors import is_transient


class LocalSink:
    name = "sink"

    def __init__(self, db: Database, policy: RetryPolicy, now: Callable[[], datetime]) -> None:
        self._db = db
        self._policy = policy
        self._now = now

    async def send(self, message: Outgoing) -> Handed:
        return await with_retries(lambda: self._keep(message), self._policy, provider=self.name)

    async def _keep(self, message: Outgoing) -> None:
        try:
            async with self._db.unit_of_work() as session:
                await sink_sql.keep(session, message, self._now())
        except Exception as exc:
            if not is_transient(exc):
                raise
            # The database away: to the sender, as a provider's time-out would be.
            raise Transient(f"sink_unavailable: {type(exc).__name__}") from exc

    async def close(self) -> None:
        return None
