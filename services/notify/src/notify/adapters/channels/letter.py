"""Letters (final notices, lawyer's letters): rendered to PDF and stored in notify's database,
where the print room downloads them (``GET /api/v1/messages/{id}/document``). The hand-over
is the stored document: the message is then ``sent``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from notify.adapters import letters_sql
from notify.adapters.channels.base import Handed, Outgoing, Permanent, Transient, with_retries
from notify.adapters.letters_pdf import Letter, render_letter
from notify.domain.retry import RetryPolicy
from shared.db import Database
from shared.messaging.errors import is_transient


class LetterChannel:
    name = "pdf"

    def __init__(self, db: Database, policy: RetryPolicy, now: Callable[[], datetime]) -> None:
        self._db = db
        self._policy = policy
        self._now = now

    async def send(self, message: Outgoing) -> Handed:
        at = self._now()
        letter = Letter(
            title=message.subject,
            addressee=message.to,
            body=message.text,
            dated=at.date(),
            reference=str(message.message_id),
        )
        try:
            pdf = await asyncio.to_thread(render_letter, letter)
        except Exception as exc:  # fpdf2 refusing the text: rendering it again would too
            return Handed(self.name, accepted=False, tries=1, reason=f"letter_render_failed: {exc}")
        return await with_retries(
            lambda: self._keep(message, pdf, at), self._policy, provider=self.name
        )

    async def _keep(self, message: Outgoing, pdf: bytes, at: datetime) -> None:
        try:
            async with self._db.unit_of_work() as session:
                await letters_sql.keep(session, message.message_id, pdf, at)
        except Exception as exc:
            if not is_transient(exc):
                raise Permanent(f"letter_not_stored: {type(exc).__name__}") from exc
            raise Transient(f"letter_store_unavailable: {type(exc).__name__}") from exc

    async def close(self) -> None:
        return None
