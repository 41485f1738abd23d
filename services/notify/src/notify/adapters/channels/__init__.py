"""Channel adapters behind one interface (``base.ChannelAdapter``), chosen by configuration:
SMTP for e-mail when ``POSTLOAN_SMTP_URL`` is set, the generic HTTP provider for SMS, push and
voice when ``POSTLOAN_<CHANNEL>_PROVIDER_URL`` is, the local sink for every channel without
one; letters are rendered to PDF and stored for printing (``letter.LetterChannel``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from notify.adapters.channels.base import ChannelAdapter, Handed, Outgoing
from notify.adapters.channels.http import HttpProvider
from notify.adapters.channels.letter import LetterChannel
from notify.adapters.channels.sink import LocalSink
from notify.adapters.channels.smtp import SmtpChannel
from notify.domain.smtp_url import parse_smtp_url
from notify.settings import HTTP_CHANNELS, NotifySettings
from shared.db import Database

__all__ = ["ChannelAdapter", "Channels", "Handed", "Outgoing", "build_channels"]


class Channels:
    """The adapter of each channel, closed together when the send worker stops."""

    def __init__(self, adapters: Mapping[str, ChannelAdapter]) -> None:
        self._adapters = dict(adapters)

    def adapter(self, channel: str) -> ChannelAdapter | None:
        return self._adapters.get(channel)

    async def close(self) -> None:
        for adapter in {id(a): a for a in self._adapters.values()}.values():
            await adapter.close()


def build_channels(settings: NotifySettings, db: Database, now: Callable[[], datetime]) -> Channels:
    policy = settings.retry_policy
    sink = LocalSink(db, policy, now)
    adapters: dict[str, ChannelAdapter] = {"letter": LetterChannel(db, policy, now)}
    if settings.smtp_url:
        adapters["email"] = SmtpChannel(
            parse_smtp_url(settings.smtp_url),
            sender=settings.smtp_from,
            timeout_s=settings.provider_timeout_s,
            policy=policy,
            ca_file=settings.smtp_ca_file,
        )
    else:
        adapters["email"] = sink
    for channel in HTTP_CHANNELS:
        url = settings.provider_url(channel)
        adapters[channel] = (
            sink
            if url is None
            else HttpProvider(
                url,
                token=settings.provider_token(channel),
                mapping=settings.provider_mapping(channel),
                timeout_s=settings.provider_timeout_s,
                policy=policy,
            )
        )
    return Channels(adapters)
