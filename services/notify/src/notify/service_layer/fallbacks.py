"""The fallback message of a message that did not get through (``domain.fallback``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from notify.domain.fallback import fallback_template
from notify.domain.messages import Status, fingerprint


def fallback_row(message: Mapping[str, Any], at: datetime) -> dict[str, Any] | None:
    """The new message on the first of ``message``'s fallback channels; None without one.
    Its key is derived from the first message's id, so it is created once, ever."""
    if not message["fallback"]:
        return None
    channel, *rest = message["fallback"]
    origin = {"fallback_of": str(message["message_id"]), "channel": channel}
    return {
        "message_id": uuid.uuid4(),
        "idempotency_key": f"fallback:{message['message_id']}:{channel}",
        "fingerprint": fingerprint(origin),
        "request_id": None,
        "case_id": message["case_id"],
        "borrower_id": message["borrower_id"],
        "loan_id": message["loan_id"],
        "recipient": message["recipient"],
        "channel": channel,
        "template_id": fallback_template(
            message["template_id"], channel, is_fallback=message["fallback_of"] is not None
        ),
        "pack": message["pack"],
        "variables": message["variables"],
        "fallback": rest,
        "fallback_of": message["message_id"],
        "status": Status.QUEUED.value,
        "due_at": at,
        "attempts": 0,
        "created_at": at,
        "updated_at": at,
    }
