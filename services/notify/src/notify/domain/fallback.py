"""Fallback channels (BRIEF decision 9): a request may name channels to try when its message
cannot get through. A fallback is a new message (``fallback_of``) with every check of its own;
it is created only when the first is ``blocked`` or ``failed`` for certain, or when the first
was still not handed to a provider by its deadline (the first is then cancelled, as
``blocked``). A message handed to a provider never falls back on time alone, and one whose
fate is unknown (the provider timed out) never falls back at all: both could arrive.

A fallback on channel C renders the template ``<template_id>.<C>`` (``second-notice.sms`` for
the e-mail ``second-notice``): one template has one channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from notify.domain.messages import Status

#: Failure reasons after which the provider may have the message all the same.
UNCERTAIN = (
    "provider_timeout",
    "smtp_unavailable: SMTPTimeoutError",
    "smtp_unavailable: SMTPServerDisconnected",
)
CANCELLED = "fallback_timeout"


def may_fall_back(to: Status, reason: str | None) -> bool:
    """Whether a message that became ``to`` for ``reason`` certainly did not arrive."""
    if to is Status.BLOCKED:
        return True
    return to is Status.FAILED and not (reason or "").startswith(UNCERTAIN)


def fallback_template(template_id: str, channel: str, *, is_fallback: bool) -> str:
    """The template of the fallback on ``channel``; a fallback's own fallback keeps the base."""
    base = template_id.rsplit(".", 1)[0] if is_fallback else template_id
    return f"{base}.{channel}"


def deadline(created_at: datetime, fallback: Sequence[str], after: timedelta) -> datetime | None:
    """When a message not yet handed over gives way to its fallback; None without one."""
    return created_at + after if fallback else None


def cancel_reason(after: timedelta, channel: str) -> str:
    return f"{CANCELLED}: not handed to a provider within {after}; falling back to {channel}"
