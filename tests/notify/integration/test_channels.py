"""Channel adapters against real servers: the generic HTTP provider over HTTP (retries, what is
refused, time-outs, the idempotency key and token), e-mail over SMTP (plain, STARTTLS with
authentication, TLS; refused recipients) and the local sink in PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from providers import Certificates, CountingProvider, http_provider, smtp_server
from sqlalchemy import text

from notify.adapters.channels.base import Outgoing
from notify.adapters.channels.http import HttpProvider
from notify.adapters.channels.sink import LocalSink
from notify.adapters.channels.smtp import SmtpChannel
from notify.domain.retry import RetryPolicy
from notify.domain.smtp_url import parse_smtp_url
from shared.db import Database

FAST = RetryPolicy(max_tries=3, base_s=0.01, max_s=0.05)
AT = datetime(2026, 2, 16, 2, 0, tzinfo=UTC)


def make_outgoing(*, channel: str = "sms", to: str = "+8613800000000") -> Outgoing:
    return Outgoing(
        message_id=uuid.uuid4(),
        channel=channel,
        to=to,
        subject="还款提醒" if channel == "email" else None,
        text="张三，您本期应还1066.19元。",
    )


async def test_transient_answers_are_retried_with_the_same_idempotency_key() -> None:
    provider = CountingProvider([503, 503])
    message = make_outgoing()
    async with http_provider(provider) as url:
        adapter = HttpProvider(url, token="t0ken", timeout_s=1.0, policy=FAST)
        handed = await adapter.send(message)
        await adapter.close()

    assert (handed.accepted, handed.tries, handed.provider) == (True, 3, "http")
    assert [c["key"] for c in provider.calls] == [str(message.message_id)] * 3
    assert {c["authorization"] for c in provider.calls} == {"Bearer t0ken"}
    assert provider.received == {
        str(message.message_id): {
            "message_id": str(message.message_id),
            "to": "+8613800000000",
            "text": "张三，您本期应还1066.19元。",
        }
    }


@pytest.mark.parametrize("status", [408, 429, 500, 502])
async def test_each_transient_status_is_retried(status: int) -> None:
    provider = CountingProvider([status])
    async with http_provider(provider) as url:
        adapter = HttpProvider(url, token=None, timeout_s=1.0, policy=FAST)
        handed = await adapter.send(make_outgoing())
        await adapter.close()

    assert (handed.accepted, handed.tries) == (True, 2)
    assert provider.calls[0]["authorization"] is None


@pytest.mark.parametrize("status", [400, 401, 404, 422])
async def test_other_client_errors_fail_at_once(status: int) -> None:
    provider = CountingProvider([status])
    async with http_provider(provider) as url:
        adapter = HttpProvider(url, token=None, timeout_s=1.0, policy=FAST)
        handed = await adapter.send(make_outgoing())
        await adapter.close()

    assert (handed.accepted, handed.tries) == (False, 1)
    assert handed.reason == f"provider_rejected: HTTP {status}"
    assert len(provider.calls) == 1


async def test_a_provider_failing_every_try_fails_after_the_bounded_number() -> None:
    provider = CountingProvider([503] * 10)
    async with http_provider(provider) as url:
        adapter = HttpProvider(url, token=None, timeout_s=1.0, policy=FAST)
        handed = await adapter.send(make_outgoing())
        await adapter.close()

    assert (handed.accepted, handed.tries) == (False, 3)
    assert handed.reason == "provider_unavailable: HTTP 503 (gave up after 3 tries)"
    assert len(provider.calls) == 3


async def test_a_time_out_is_retried_and_the_provider_keeps_one_message() -> None:
    provider = CountingProvider(["slow"], slow_s=0.6)
    message = make_outgoing()
    async with http_provider(provider) as url:
        adapter = HttpProvider(url, token=None, timeout_s=0.3, policy=FAST)
        handed = await adapter.send(message)
        await adapter.close()

    assert (handed.accepted, handed.tries) == (True, 2)
    assert [c["key"] for c in provider.calls] == [str(message.message_id)] * 2
    assert list(provider.received) == [str(message.message_id)]


async def test_an_unreachable_provider_is_transient_then_failed() -> None:
    adapter = HttpProvider("http://127.0.0.1:9/messages", token=None, timeout_s=0.5, policy=FAST)
    handed = await adapter.send(make_outgoing())
    await adapter.close()

    assert (handed.accepted, handed.tries) == (False, 3)
    assert handed.reason is not None
    assert handed.reason.startswith("provider_unreachable")


async def test_an_email_goes_over_plain_smtp_with_subject_body_and_its_id() -> None:
    message = make_outgoing(channel="email", to="zhang@example.com")
    async with smtp_server() as server:
        adapter = SmtpChannel(
            parse_smtp_url(server.url()),
            sender="PostLoan <no-reply@postloan.test>",
            timeout_s=2.0,
            policy=FAST,
        )
        handed = await adapter.send(message)

    assert (handed.accepted, handed.tries, handed.provider) == (True, 1, "smtp")
    [(recipients, mail)] = server.inbox.received
    assert recipients == ["zhang@example.com"]
    assert mail["Subject"] == "还款提醒"
    assert mail["From"] == "PostLoan <no-reply@postloan.test>"
    assert mail["X-PostLoan-Message-Id"] == str(message.message_id)
    assert str(message.message_id) in mail["Message-ID"]
    body = mail.get_body()
    assert body is not None
    assert body.get_content().strip() == "张三，您本期应还1066.19元。"


async def test_an_email_goes_over_starttls_with_a_login(tmp_path: Path) -> None:
    certificates = Certificates()
    ca_file = tmp_path / "ca.pem"
    certificates.ca.cert_pem.write_to_path(str(ca_file))
    message = make_outgoing(channel="email", to="zhang@example.com")
    async with smtp_server(certificates=certificates, login=("postloan", "s3cr%t")) as server:
        adapter = SmtpChannel(
            parse_smtp_url(server.url("smtp+starttls", "postloan:s3cr%25t")),
            sender="no-reply@postloan.test",
            timeout_s=2.0,
            policy=FAST,
            ca_file=ca_file,
        )
        handed = await adapter.send(message)
        wrong = SmtpChannel(
            parse_smtp_url(server.url("smtp+starttls", "postloan:wrong")),
            sender="no-reply@postloan.test",
            timeout_s=2.0,
            policy=FAST,
            ca_file=ca_file,
        )
        refused = await wrong.send(make_outgoing(channel="email", to="zhang@example.com"))

    assert (handed.accepted, handed.tries) == (True, 1), handed.reason
    assert len(server.inbox.received) == 1
    assert (refused.accepted, refused.tries) == (False, 1), refused.reason
    assert refused.reason is not None
    assert refused.reason.startswith("smtp_rejected: 535")


async def test_an_email_goes_over_implicit_tls(tmp_path: Path) -> None:
    certificates = Certificates()
    ca_file = tmp_path / "ca.pem"
    certificates.ca.cert_pem.write_to_path(str(ca_file))
    async with smtp_server(certificates=certificates, implicit_tls=True) as server:
        adapter = SmtpChannel(
            parse_smtp_url(server.url("smtps")),
            sender="no-reply@postloan.test",
            timeout_s=2.0,
            policy=FAST,
            ca_file=ca_file,
        )
        handed = await adapter.send(make_outgoing(channel="email", to="zhang@example.com"))

    assert (handed.accepted, handed.tries) == (True, 1), handed.reason
    assert len(server.inbox.received) == 1


async def test_a_server_certificate_nobody_trusts_is_never_sent_to() -> None:
    async with smtp_server(certificates=Certificates()) as server:
        adapter = SmtpChannel(
            parse_smtp_url(server.url("smtp+starttls")),
            sender="no-reply@postloan.test",
            timeout_s=2.0,
            policy=FAST,
        )
        handed = await adapter.send(make_outgoing(channel="email", to="zhang@example.com"))

    assert not handed.accepted
    assert server.inbox.received == []


async def test_a_refused_recipient_fails_at_once() -> None:
    async with smtp_server(refuse=["gone@example.com"]) as server:
        adapter = SmtpChannel(
            parse_smtp_url(server.url()),
            sender="no-reply@postloan.test",
            timeout_s=2.0,
            policy=FAST,
        )
        handed = await adapter.send(make_outgoing(channel="email", to="gone@example.com"))

    assert (handed.accepted, handed.tries) == (False, 1)
    assert handed.reason == "smtp_rejected: 550 recipient refused"


async def test_the_sink_keeps_a_message_once_however_often_it_is_handed(
    notify_db: Database,
) -> None:
    sink = LocalSink(notify_db, FAST, lambda: AT)
    message = make_outgoing()

    first = await sink.send(message)
    again = await sink.send(message)

    assert (first.accepted, again.accepted, first.provider) == (True, True, "sink")
    async with notify_db.unit_of_work() as session:
        rows = (await session.execute(text("SELECT message_id, address FROM sink_message"))).all()
    assert [tuple(r) for r in rows] == [(message.message_id, "+8613800000000")]
