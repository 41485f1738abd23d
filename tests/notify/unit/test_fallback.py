"""When a message gives way to its fallback, and which template the fallback renders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notify.domain.fallback import deadline, fallback_template, may_fall_back
from notify.domain.messages import Status

NOW = datetime(2026, 2, 16, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "reason", "falls_back"),
    [
        (Status.BLOCKED, "opt_out", True),
        (Status.BLOCKED, "fallback_timeout: …", True),
        (Status.FAILED, "provider_rejected: HTTP 400", True),
        (Status.FAILED, "provider_unavailable: HTTP 503 (gave up after 5 tries)", True),
        (Status.FAILED, "hard_bounce", True),
        # The provider may have it: a fallback could make two arrive.
        (Status.FAILED, "provider_timeout (gave up after 5 tries)", False),
        (Status.FAILED, "smtp_unavailable: SMTPTimeoutError (gave up after 5 tries)", False),
        (Status.SENT, None, False),
        (Status.DELIVERED, None, False),
        (Status.DEFERRED, "contact_hours: …", False),
    ],
)
def test_only_a_message_that_certainly_did_not_arrive_falls_back(
    status: Status, reason: str | None, falls_back: bool
) -> None:
    assert may_fall_back(status, reason) is falls_back


def test_the_fallback_template_is_named_after_the_first_and_its_channel() -> None:
    assert fallback_template("second-notice", "sms", is_fallback=False) == "second-notice.sms"
    assert fallback_template("second-notice.sms", "push", is_fallback=True) == (
        "second-notice.push"
    )


def test_only_a_message_with_fallbacks_has_a_deadline() -> None:
    assert deadline(NOW, ["sms"], timedelta(hours=1)) == NOW + timedelta(hours=1)
    assert deadline(NOW, [], timedelta(hours=1)) is None
