"""The embedded stack's SMTP server (BRIEF decision 15): without ``POSTLOAN_SMTP_URL``, notify
sends e-mail over real SMTP to this aiosmtpd server, which keeps every message it receives in
notify's local sink (``sink_message``, notify's migration 0003), so e-mails are listed at
``GET /api/v1/notify/sink?channel=email`` beside the texts, pushes and calls.

It runs on the stack's own event loop; each e-mail is one insert, keyed by the
``X-PostLoan-Message-Id`` notify puts on it (a resumed send is kept once, as a provider would)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from aiosmtpd.smtp import SMTP
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

KEEP = sa.text(
    "INSERT INTO sink_message (message_id, channel, address, subject, text, received_at) "
    "VALUES (:message_id, 'email', :address, :subject, :text, :received_at) "
    "ON CONFLICT (message_id) DO NOTHING"
)


def smtp_url_for(env: Mapping[str, str], port: int) -> dict[str, str]:
    """The variables that point notify at the embedded server: none when the user named one."""
    if env.get("POSTLOAN_SMTP_URL"):
        return {}
    return {"POSTLOAN_SMTP_URL": f"smtp://127.0.0.1:{port}"}


def kept(envelope_to: list[str], content: bytes) -> dict[str, Any]:
    """One received e-mail as a row of notify's sink."""
    parsed = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    body = parsed.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else parsed.get_payload(decode=False)
    ident = parsed.get("X-PostLoan-Message-Id")
    try:
        message_id = uuid.UUID(str(ident)) if ident else uuid.uuid4()
    except ValueError:
        message_id = uuid.uuid4()  # not notify's: kept under an id of its own
    return {
        "message_id": message_id,
        "address": ", ".join(envelope_to),
        "subject": parsed.get("Subject"),
        "text": str(text).replace("\r\n", "\n").rstrip("\n"),
    }


class SinkHandler:
    """aiosmtpd's handler: every accepted e-mail becomes a row of notify's sink."""

    def __init__(self, engine: AsyncEngine, now: Callable[[], datetime]) -> None:
        self._engine = engine
        self._now = now

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: ARG002 (aiosmtpd calls it so)
        row = kept(list(envelope.rcpt_tos), envelope.content)
        async with self._engine.begin() as connection:
            await connection.execute(KEEP, {**row, "received_at": self._now()})
        return "250 Message accepted"


class EmbeddedSmtp:
    """The SMTP server on 127.0.0.1:``port``, filing into the database at ``database_url``."""

    def __init__(self, database_url: str, port: int) -> None:
        self.port = port
        self._engine = create_async_engine(database_url, pool_size=2)
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        handler = SinkHandler(self._engine, lambda: datetime.now(UTC))
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(handler, hostname="postloan.local"), "127.0.0.1", self.port
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await self._engine.dispose()
