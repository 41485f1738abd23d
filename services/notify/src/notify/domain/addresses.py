"""Addresses as notify compares them: one spelling per address, so that a suppression recorded
as ``Zhang@Example.com`` holds for a message to ``zhang@example.com``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def postal_block(name: str, address: Mapping[str, Any] | None) -> str:
    """A letter's addressee block: the name, the address lines as given, then the postal code
    and the country on one line (``shared.events.PostalAddress``)."""
    lines = [name]
    if address:
        lines += [str(line) for line in address["lines"]]
        last = " ".join(str(p) for p in (address.get("postal_code"), address.get("country")) if p)
        if last:
            lines.append(last)
    return "\n".join(lines)
