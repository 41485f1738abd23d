"""Which channels reach a recipient."""

from __future__ import annotations

from shared.events import Channel


def reachable_channels(
    *, phone: str | None, email: str | None, phone_valid: bool, email_valid: bool
) -> list[Channel]:
    """Channels with a known, valid address; letters always reach the address on file."""
    channels: list[Channel] = []
    if phone and phone_valid:
        channels += [Channel.SMS, Channel.VOICE]
    if email and email_valid:
        channels.append(Channel.EMAIL)
    channels.append(Channel.LETTER)
    return channels
