"""The embedded stack's SMTP server: chosen only without POSTLOAN_SMTP_URL, it receives notify's
e-mails over real SMTP and keeps them in notify's sink (real PostgreSQL, notify migrated), so
they are listed at GET /api/v1/notify/sink beside the texts; a resumed send is kept once."""

from __future__ import annotations

import uuid

from pydantic import SecretStr

from devstack.embedded import free_port
from devstack.smtp_sink import EmbeddedSmtp, kept, smtp_url_for
from notify.adapters.channels.base import Outgoing
from notify.adapters.channels.smtp import SmtpChannel
from notify.domain.retry import RetryPolicy
from notify.domain.smtp_url import parse_smtp_url
from notify.main import create_app
from notify.settings import NotifySettings
from postloan_testing.plugin import NatsUnderTest
from postloan_testing.servers import running
from principals import PRINCIPAL_SECRET, signed


def test_the_embedded_server_is_used_only_when_no_smtp_server_is_named() -> None:
    assert smtp_url_for({}, 2525) == {"POSTLOAN_SMTP_URL": "smtp://127.0.0.1:2525"}
    assert smtp_url_for({"POSTLOAN_SMTP_URL": ""}, 2525) == {
        "POSTLOAN_SMTP_URL": "smtp://127.0.0.1:2525"
    }
    assert smtp_url_for({"POSTLOAN_SMTP_URL": "smtps://mail.example.com"}, 2525) == {}


def test_an_e_mail_not_from_notify_is_kept_under_an_id_of_its_own() -> None:
    row = kept(["a@example.com"], b"Subject: Hi\r\nX-PostLoan-Message-Id: nope\r\n\r\nHello\r\n")

    assert (row["address"], row["subject"], row["text"]) == ("a@example.com", "Hi", "Hello")
    assert isinstance(row["message_id"], uuid.UUID)


async def test_notifys_e_mails_reach_the_sink_through_the_embedded_smtp_server_once(
    database_url: str, nats_server: NatsUnderTest
) -> None:
    port = free_port()
    settings = NotifySettings(
        principal_secret=SecretStr(PRINCIPAL_SECRET),
        database_url=database_url,
        nats_url=nats_server.url,
        smtp_url=f"smtp://127.0.0.1:{port}",
    )
    outgoing = Outgoing(
        message_id=uuid.uuid4(),
        channel="email",
        to="zhang@example.com",
        subject="张三，还款提醒",
        text="张三，您本期应还1066.19元。",
    )
    async with running(create_app(settings), auth=signed()) as notify:  # migrates notify's database
        server = EmbeddedSmtp(database_url, port)
        await server.start()
        try:
            channel = SmtpChannel(
                parse_smtp_url(settings.smtp_url or ""),
                sender="no-reply@postloan.local",
                timeout_s=5,
                policy=RetryPolicy(max_tries=1, base_s=0, max_s=0),
            )
            first = await channel.send(outgoing)
            again = await channel.send(outgoing)  # a send resumed after a crash
        finally:
            await server.stop()
        listed = (await notify.get("/api/v1/notify/sink", params={"channel": "email"})).json()

    assert (first.accepted, again.accepted) == (True, True)
    [received] = listed["items"]
    assert received["message_id"] == str(outgoing.message_id)
    assert received["address"] == "zhang@example.com"
    assert received["subject"] == "张三，还款提醒"
    assert received["text"] == "张三，您本期应还1066.19元。"
