"""The one interface every channel adapter has: hand over a message, learn whether the
provider accepted it, after how many tries, or why not.

An adapter raises :class:`Transient` for what may work later (time-outs, 408, 429, 5xx,
4xx SMTP replies) and :class:`Permanent` for what never will (other 4xx, 5xx SMTP replies);
:func:`with_retries` turns those into a :class:`Handed` result under a :class:`RetryPolicy`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from notify.domain.retry import RetryPolicy

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A rendered message, as a provider gets it; ``message_id`` is its idempotency key."""

    message_id: uuid.UUID
    channel: str
    to: str
    subject: str | None
    text: str


@dataclass(frozen=True, slots=True)
class Handed:
    """What became of a hand-over: ``accepted``, or ``reason`` why not, after ``tries`` calls."""

    provider: str
    accepted: bool
    tries: int
    reason: str | None = None
    provider_message_id: str | None = None  # the provider's own id, where its answer gives one


class Transient(Exception):
    """The provider may accept the message later; ``retry_after`` is its hint, in seconds."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Permanent(Exception):
    """The provider refused the message; trying again would be refused the same way."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChannelAdapter(Protocol):
    #: Shown as the message's ``provider``: ``sink``, ``smtp`` or ``http``.
    name: str

    async def send(self, message: Outgoing) -> Handed: ...

    async def close(self) -> None: ...


async def with_retries(
    call: Callable[[], Awaitable[str | None]],
    policy: RetryPolicy,
    *,
    provider: str,
    sleep: Sleep = asyncio.sleep,
    jitter: Callable[[], float] = random.random,
) -> Handed:
    """Call until accepted, refused, or ``policy.max_tries`` transient failures; ``call``
    answers the provider's id of the message, if it gives one."""
    for tries in range(1, policy.max_tries + 1):
        try:
            provider_id = await call()
        except Permanent as refused:
            return Handed(provider, accepted=False, tries=tries, reason=refused.reason)
        except Transient as failed:
            if tries == policy.max_tries:
                reason = f"{failed.reason} (gave up after {tries} tries)"
                return Handed(provider, accepted=False, tries=tries, reason=reason)
            delay = policy.delay(tries, jitter(), failed.retry_after)
            log.info("%s: %s; try %d in %.2f s", provider, failed.reason, tries + 1, delay)
            await sleep(delay)
        else:
            return Handed(provider, accepted=True, tries=tries, provider_message_id=provider_id)
    raise AssertionError("unreachable: a policy has at least one try")
