"""Poison events: recognising them, and setting them aside with the reason.

A dead letter is the original message body, unchanged, on ``postloan.deadletter.<consumer>``
(stream ``POSTLOAN_DEADLETTER``), with the error and its origin in ``Postloan-*`` headers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from nats.aio.msg import Msg
from pydantic import ValidationError

from shared.events import CloudEvent, Payload, UnknownEventType
from shared.messaging.bus import DEAD_LETTER_PREFIX, Bus
from shared.metrics import DEAD_LETTERS

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 2000


class PoisonEvent(Exception):
    """An event that no retry can apply (malformed, unknown type, wrong schema)."""


def parse(msg: Msg, handlers: Mapping[str, object]) -> tuple[CloudEvent, Payload]:
    """Envelope and typed payload of a message, or :class:`PoisonEvent` saying what is wrong."""
    try:
        event = CloudEvent.model_validate_json(msg.data)
        if event.type not in handlers:
            raise UnknownEventType(event.type)
        return event, event.payload()
    except (ValidationError, ValueError) as exc:
        raise PoisonEvent(str(exc)) from exc


async def dead_letter(bus: Bus, msg: Msg, *, consumer: str, error: str) -> None:
    """Store ``msg`` on the dead-letter stream (raises when JetStream did not acknowledge)."""
    meta = msg.metadata
    headers = {
        # Deduplicated, so that a dead letter re-sent after a lost acknowledgement is kept once.
        "Nats-Msg-Id": f"{consumer}:{meta.stream}:{meta.sequence.stream}",
        "Postloan-Error": _one_line(error),
        "Postloan-Consumer": consumer,
        "Postloan-Original-Subject": msg.subject,
        "Postloan-Deliveries": str(meta.num_delivered),
    }
    await bus.js.publish(f"{DEAD_LETTER_PREFIX}.{consumer}", msg.data, headers=headers)
    DEAD_LETTERS.labels(consumer).inc()
    log.error("event dead-lettered by %s: %s", consumer, headers["Postloan-Error"][:500])


def _one_line(error: str) -> str:
    """A header value: one line (NATS headers end at CRLF), bounded."""
    return " ".join(error.split())[:MAX_ERROR_CHARS]


def dead_letter_info(msg: Msg) -> dict[str, str]:
    """The error and origin recorded on a dead-lettered message (for tools and tests)."""
    headers = msg.headers or {}
    return {k: v for k, v in headers.items() if k.startswith("Postloan-")}
