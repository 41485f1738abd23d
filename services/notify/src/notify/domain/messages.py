"""A message's states and the moves between them (docs/notify.md, "Delivery").

::

    queued ──> sending ──> sent ──> delivered
      │  ↖      │  │         └────> failed       (a provider's receipt)
      │   deferred │ └──> failed                 (refused by the provider, or retries spent)
      └──> blocked <┘                            (suppressed, no address: never sent)

``deferred`` waits for its ``deferred_until`` (contact hours, caps) and then goes to ``sending``
or back to ``deferred``; nothing is ever dropped. ``sending`` is recorded and committed before
the provider is called, so a crash in between resumes the same message (same id, same
``Idempotency-Key``) rather than creating another.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from enum import StrEnum


class Status(StrEnum):
    QUEUED = "queued"
    DEFERRED = "deferred"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    BLOCKED = "blocked"


#: Where each status may go next (a receipt can overtake the worker's record of ``sent``).
MOVES: Mapping[Status, frozenset[Status]] = {
    Status.QUEUED: frozenset({Status.SENDING, Status.DEFERRED, Status.BLOCKED, Status.FAILED}),
    Status.DEFERRED: frozenset({Status.SENDING, Status.DEFERRED, Status.BLOCKED, Status.FAILED}),
    Status.SENDING: frozenset(
        {Status.SENT, Status.FAILED, Status.BLOCKED, Status.DELIVERED, Status.DEFERRED}
    ),
    Status.SENT: frozenset({Status.DELIVERED, Status.FAILED}),
    Status.DELIVERED: frozenset({Status.FAILED}),  # a late bounce after a delivery receipt
    Status.FAILED: frozenset(),
    Status.BLOCKED: frozenset(),
}

#: Statuses the send worker takes when they are due.
WAITING = frozenset({Status.QUEUED, Status.DEFERRED, Status.SENDING})


def may_move(current: Status, to: Status) -> bool:
    return to in MOVES[current]


def fingerprint(request: Mapping[str, object]) -> str:
    """A stable hash of a request's content: the same body gives the same hash whatever the
    order of its keys, so a replay is recognised and another body under the same key is not."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
