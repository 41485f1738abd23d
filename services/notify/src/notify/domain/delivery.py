"""What the send worker does with a due message, decided at send time (BRIEF decision 2):
send it now, block it for good, or defer it to the next moment the pack allows.

Pure: the service layer gathers the facts (the address, a suppression, notify's own recent
deliveries to the borrower as the guard's history) and the clock's ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.compliance import Channel as ContactChannel
from shared.compliance import (
    ContactHistory,
    ContactRequest,
    Outcome,
    Pack,
    Purpose,
    Recipient,
    decide,
)


@dataclass(frozen=True, slots=True)
class SendAsk:
    """One due message as the send-time checks see it."""

    channel: str
    borrower_id: str
    loan_id: str | None
    recipient: str
    purpose: str
    time_zone: str
    address: str | None  # None: notify has no address of this recipient on this channel
    address_valid: bool
    suppression: str | None  # the reason of a suppression of the address, if there is one


@dataclass(frozen=True, slots=True)
class SendNow:
    address: str


@dataclass(frozen=True, slots=True)
class Block:
    """Never to be sent: ``reason`` is a suppression reason, ``no_address``,
    ``invalid_address``, or ``<rule>: <why>`` of the guard's refusal."""

    reason: str


@dataclass(frozen=True, slots=True)
class Defer:
    until: datetime
    reason: str  # "<rule>: <why>", e.g. "contact_hours: 22:00-08:00 in Asia/Shanghai"


Verdict = SendNow | Block | Defer


def decide_send(ask: SendAsk, pack: Pack, history: ContactHistory, now: datetime) -> Verdict:
    """Address and suppressions first (they block whatever the hour), then the pack's rules
    as the guard applies them at ``now`` in the recipient's zone."""
    if ask.address is None:
        return Block("no_address")
    if not ask.address_valid:
        return Block("invalid_address")
    if ask.suppression is not None:
        return Block(ask.suppression)
    request = ContactRequest(
        channel=ContactChannel(ask.channel),
        loan_id=ask.loan_id or "",
        borrower_id=ask.borrower_id,
        time_zone=ask.time_zone,
        recipient=Recipient(ask.recipient),
        purpose=Purpose(ask.purpose),
        to=ask.address,
    )
    decision = decide(request, pack, history, now)
    if decision.outcome is Outcome.ALLOWED:
        return SendNow(ask.address)
    reason = f"{decision.rule}: {decision.reason}"
    if decision.outcome is Outcome.DEFERRED and decision.until is not None:
        return Defer(decision.until, reason)
    return Block(reason)
