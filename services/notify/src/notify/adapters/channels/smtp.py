"""E-mail over real SMTP with aiosmtplib: plain, STARTTLS or TLS, with or without
authentication (``POSTLOAN_SMTP_URL``). SMTP has no idempotency key: the ``Message-ID`` is
the message's id, so that a resumed send is recognisably the same e-mail."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import aiosmtplib

from notify.adapters.channels.base import Handed, Outgoing, Permanent, Transient, with_retries
from notify.domain.retry import RetryPolicy
from notify.domain.smtp_url import SmtpTarget


class SmtpChannel:
    name = "smtp"

    def __init__(
        self,
        target: SmtpTarget,
        *,
        sender: str,
        timeout_s: float,
        policy: RetryPolicy,
        ca_file: Path | None = None,
    ) -> None:
        self._target = target
        self._sender = sender
        self._timeout_s = timeout_s
        self._policy = policy
        self._ca_file = str(ca_file) if ca_file else None

    async def send(self, message: Outgoing) -> Handed:
        email = self._email(message)
        return await with_retries(lambda: self._deliver(email), self._policy, provider=self.name)

    def _email(self, message: Outgoing) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self._sender
        email["To"] = message.to
        email["Subject"] = message.subject or ""
        email["Message-ID"] = make_msgid(idstring=str(message.message_id), domain="postloan")
        email["X-PostLoan-Message-Id"] = str(message.message_id)
        email.set_content(message.text)
        return email

    async def _deliver(self, email: EmailMessage) -> None:
        t = self._target
        try:
            await aiosmtplib.send(
                email,
                hostname=t.host,
                port=t.port,
                username=t.username,
                password=t.password,
                use_tls=t.use_tls,
                start_tls=t.start_tls,
                timeout=self._timeout_s,
                cert_bundle=self._ca_file,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            _raise_for(min(codes) if codes else 550, "recipient refused")
        except aiosmtplib.SMTPResponseException as exc:
            _raise_for(exc.code, exc.message)
        except (aiosmtplib.SMTPException, OSError) as exc:  # connection, time-out, TLS
            raise Transient(f"smtp_unavailable: {type(exc).__name__}") from exc

    async def close(self) -> None:
        return None


def _raise_for(code: int, text: str) -> None:
    """4xx replies are temporary (RFC 5321 §4.2.1), 5xx permanent."""
    if 400 <= code < 500:
        raise Transient(f"smtp_unavailable: {code} {text}".strip())
    raise Permanent(f"smtp_rejected: {code} {text}".strip())
