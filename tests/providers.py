"""Real providers for notify's tests: an SMTP server (aiosmtpd, optionally over TLS, with
authentication) and a counting HTTP provider served by uvicorn on a local port."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import trustme
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from postloan_testing.servers import serving


@dataclass
class Inbox:
    """What the SMTP server received: each e-mail with the recipients of its envelope."""

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: frozenset[str] = frozenset()  # recipients answered 550

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


@dataclass(frozen=True)
class SmtpServer:
    inbox: Inbox
    port: int

    def url(self, scheme: str = "smtp", credentials: str = "") -> str:
        at = f"{credentials}@" if credentials else ""
        return f"{scheme}://{at}127.0.0.1:{self.port}"


class Certificates:
    """A test certificate authority and a server certificate for 127.0.0.1 it signed."""

    def __init__(self) -> None:
        self.ca = trustme.CA()
        self.server = self.ca.issue_cert("127.0.0.1", "localhost")

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server.configure_cert(context)
        return context


@asynccontextmanager
async def smtp_server(
    *,
    certificates: Certificates | None = None,
    implicit_tls: bool = False,
    login: tuple[str, str] | None = None,
    refuse: Sequence[str] = (),
) -> AsyncIterator[SmtpServer]:
    """An SMTP server on this loop: STARTTLS offered when ``certificates`` are given (or TLS
    from the first byte with ``implicit_tls``), ``login`` required when given."""
    inbox = Inbox(refuse=frozenset(refuse))
    context = certificates.server_context() if certificates else None

    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and login is not None
        ok = ok and (data.login.decode(), data.password.decode()) == login
        return AuthResult(success=ok, handled=False)  # the server answers 235 or 535

    def protocol() -> SMTP:
        return SMTP(
            inbox,
            hostname="smtp.test",
            tls_context=None if implicit_tls else context,
            require_starttls=context is not None and not implicit_tls,
            authenticator=authenticate if login else None,
            auth_required=login is not None,
            auth_require_tls=True,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        protocol, "127.0.0.1", 0, ssl=context if implicit_tls else None
    )
    try:
        yield SmtpServer(inbox, server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


class CountingProvider:
    """The generic HTTP provider as a real provider keeps it: every call recorded, and one
    message per ``Idempotency-Key`` (a repeated key is answered, not received again).

    ``script`` answers the calls in turn: a status code, or ``"slow"`` to answer 200 only after
    ``slow_s`` seconds (longer than the client waits); once spent, every call gets 202."""

    def __init__(self, script: Sequence[int | str] = (), *, slow_s: float = 1.5) -> None:
        self.script = list(script)
        self.slow_s = slow_s
        self.calls: list[dict[str, Any]] = []
        self.received: dict[str, dict[str, Any]] = {}
        self.app = FastAPI(routes=[Route("/messages", self._message, methods=["POST"])])

    async def _message(self, request: Request) -> JSONResponse:
        body = await request.json()
        key = request.headers.get("idempotency-key", "")
        self.calls.append(
            {"key": key, "authorization": request.headers.get("authorization"), "body": body}
        )
        answer = self.script.pop(0) if self.script else 202
        if answer == "slow":  # accepted on arrival, answered late
            self.received.setdefault(key, body)
            await asyncio.sleep(self.slow_s)
            answer = 200
        assert isinstance(answer, int)
        if 200 <= answer < 300:
            self.received.setdefault(key, body)
        headers = {"Retry-After": "0"} if answer == 429 else None
        return JSONResponse({"id": key}, status_code=answer, headers=headers)


@asynccontextmanager
async def http_provider(provider: CountingProvider) -> AsyncIterator[str]:
    """Serve ``provider`` over real HTTP; yield the URL messages are posted to."""
    async with serving(provider.app) as base:
        yield f"{base}/messages"
