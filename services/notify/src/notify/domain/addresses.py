"""Addresses as notify compares them: one spelling per address, so that a suppression recorded
as ``Zhang@Example.com`` holds for a message to ``zhang@example.com``."""

from __future__ import annotations

from shared.events import Channel

PHONE_CHANNELS = frozenset({Channel.SMS, Channel.VOICE})


def normalise(channel: Channel | str, address: str) -> str:
    """E-mail addresses compare without case; numbers and tokens without spaces or dashes."""
    trimmed = address.strip()
    if channel == Channel.EMAIL:
        return trimmed.lower()
    if channel in PHONE_CHANNELS:
        return "".join(c for c in trimmed if c not in " -()")
    return trimmed
