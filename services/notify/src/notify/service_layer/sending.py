"""The send worker's use cases: take the messages that are due, check each again at send time,
and hand the ones that may go to their channel — ``sending`` committed before the provider is
called, the outcome recorded after.

A crash after the hand-over leaves the message ``sending``; once its lease has passed it is
taken again and handed over with the same text and id (the provider's ``Idempotency-Key``),
never as a second message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import messages_sql
from notify.adapters.channels import Channels, Handed, Outgoing
from notify.domain.delivery import Block, Defer, decide_send
from notify.domain.fallback import cancel_reason, deadline
from notify.domain.messages import Status
from notify.service_layer import recipients
from notify.service_layer.packs import pack_for
from notify.service_layer.rate_budget import RateBudget, RateLimits
from notify.service_layer.refusals import Unprocessable
from notify.service_layer.rendering import RenderedMessage, render_message
from notify.service_layer.send_facts import own_history, send_ask
from notify.service_layer.transitions import move
from shared.clock import Clock
from shared.db import Database
from shared.problems import NotFound

log = logging.getLogger(__name__)

#: A message to a borrower notify never heard of fails after this long (the loan's
#: registration may arrive after collections' request: they travel on different streams).
RECIPIENT_GIVE_UP = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class SendConfig:
    batch_size: int = 50
    concurrency: int = 8
    lease: timedelta = timedelta(minutes=10)
    recipient_wait: timedelta = timedelta(minutes=1)
    limits: RateLimits = field(default_factory=RateLimits)
    fallback_after: timedelta = timedelta(hours=1)


async def send_due(db: Database, channels: Channels, clock: Clock, config: SendConfig) -> int:
    """One round: claim, check and mark what is due, hand it over, record what happened.
    Answers how many messages were taken (0: nothing was due)."""
    async with db.unit_of_work() as session:
        claimed, ready = await claim(session, clock(), channels, config)
    if not ready:
        return claimed
    gate = asyncio.Semaphore(config.concurrency)

    async def hand(outgoing: Outgoing) -> tuple[Outgoing, Handed]:
        async with gate:
            adapter = channels.adapter(outgoing.channel)
            assert adapter is not None  # claim() fails messages of channels without one
            return outgoing, await adapter.send(outgoing)

    results = await asyncio.gather(*(hand(o) for o in ready), return_exceptions=True)
    async with db.unit_of_work() as session:
        for result in results:
            if isinstance(result, BaseException):
                # An adapter's own bug: the message stays sending and is resumed after its
                # lease (same id, same key); the others' outcomes are still recorded.
                log.error("a hand-over failed unexpectedly", exc_info=result)
                continue
            outgoing, handed = result
            await record(session, outgoing.message_id, handed, clock())
    return claimed


async def claim(
    session: AsyncSession, now: datetime, channels: Channels, config: SendConfig
) -> tuple[int, list[Outgoing]]:
    """Take the due messages (rows another worker holds are skipped); each is moved on —
    deferred, blocked, failed — or marked ``sending`` and returned to be handed over."""
    rows = await messages_sql.claim_due(session, now, config.batch_size)
    ready = []
    budget = RateBudget(config.limits)
    for row in rows:
        outgoing = await _prepare(session, row, now, channels, config, budget)
        if outgoing is not None:
            ready.append(outgoing)
    return len(rows), ready


async def _prepare(
    session: AsyncSession,
    row: Mapping[str, Any],
    now: datetime,
    channels: Channels,
    config: SendConfig,
    budget: RateBudget,
) -> Outgoing | None:
    if row["status"] == Status.SENDING:  # a send interrupted past its lease: the same again
        log.warning("resuming the interrupted send of message %s", row["message_id"])
        await messages_sql.update_message(
            session, row["message_id"], {"due_at": now + config.lease}
        )
        return _outgoing(row)
    cutoff = deadline(row["created_at"], row["fallback"], config.fallback_after)
    if cutoff is not None and now >= cutoff:  # not handed over in time: the fallback's turn
        reason = cancel_reason(config.fallback_after, row["fallback"][0])
        await move(session, row, Status.BLOCKED, at=now, reason=reason, due_at=None)
        return None
    if channels.adapter(row["channel"]) is None:
        reason = f"unsupported_channel: no provider delivers {row['channel']} messages"
        await move(session, row, Status.FAILED, at=now, reason=reason, due_at=None)
        return None
    recipient = await recipients.recipient(session, row["borrower_id"])
    if recipient is None:
        await _wait_for_recipient(session, row, now, config)
        return None
    rendered = await _render(session, row, recipient.locale, now)
    if rendered is None:
        return None
    return await _check_and_mark(session, row, recipient, rendered, now, config, budget)


async def _check_and_mark(
    session: AsyncSession,
    row: Mapping[str, Any],
    recipient: recipients.Recipient,
    rendered: RenderedMessage,
    now: datetime,
    config: SendConfig,
    budget: RateBudget,
) -> Outgoing | None:
    """The send-time checks (address, suppressions, the pack's rules at ``now``, the rate
    limits), then blocked, deferred to the next allowed moment, or ``sending`` with the text
    fixed."""
    pack = await pack_for(session, row["pack"])
    if pack is None:
        reason = f"unknown_pack: {row['pack']}"
        await move(session, row, Status.FAILED, at=now, reason=reason, due_at=None)
        return None
    ask = await send_ask(session, row, recipient, rendered.purpose)
    verdict = decide_send(ask, pack, await own_history(session, row, recipient, now), now)
    if isinstance(verdict, Block):
        await move(session, row, Status.BLOCKED, at=now, reason=verdict.reason, due_at=None)
        return None
    if isinstance(verdict, Defer):
        await _defer(session, row, verdict.until, verdict.reason, now, config)
        return None
    over = await budget.check(session, row["borrower_id"], row["channel"], now)
    if over is not None:
        await _defer(session, row, over.until, over.reason, now, config)
        return None
    budget.handed(row["borrower_id"], row["channel"], now)
    sending = await move(
        session,
        row,
        Status.SENDING,
        at=now,
        due_at=now + config.lease,
        handed_at=now,
        address=verdict.address,
        subject=rendered.subject,
        text=rendered.body,
        template_version=rendered.template_version,
        locale=rendered.locale,
    )
    return _outgoing(sending)


async def _defer(
    session: AsyncSession,
    row: Mapping[str, Any],
    until: datetime,
    reason: str,
    now: datetime,
    config: SendConfig,
) -> None:
    """Deferred to ``until``, and looked at again then — or at its fallback deadline, if that
    comes first (it is then cancelled for its fallback)."""
    cutoff = deadline(row["created_at"], row["fallback"], config.fallback_after)
    due = until if cutoff is None else min(until, cutoff)
    await move(
        session, row, Status.DEFERRED, at=now, reason=reason, deferred_until=until, due_at=due
    )


async def _render(
    session: AsyncSession, row: Mapping[str, Any], locale: str, now: datetime
) -> RenderedMessage | None:
    """The text to send, in the recipient's locale; a message that cannot be rendered fails."""
    try:
        rendered = await render_message(
            session, row["template_id"], locale=locale, variables=row["variables"], pack=row["pack"]
        )
    except (NotFound, Unprocessable) as refused:
        await move(
            session, row, Status.FAILED, at=now, reason=f"render_failed: {refused}", due_at=None
        )
        return None
    if rendered.channel != row["channel"]:
        reason = f"render_failed: template {row['template_id']} is for {rendered.channel}"
        await move(session, row, Status.FAILED, at=now, reason=reason, due_at=None)
        return None
    return rendered


async def _wait_for_recipient(
    session: AsyncSession, row: Mapping[str, Any], now: datetime, config: SendConfig
) -> None:
    if now - row["created_at"] >= RECIPIENT_GIVE_UP:
        reason = f"unknown_recipient: no loan of borrower {row['borrower_id']} was registered"
        await move(session, row, Status.FAILED, at=now, reason=reason, due_at=None)
        return
    await messages_sql.update_message(
        session, row["message_id"], {"due_at": now + config.recipient_wait}
    )


def _outgoing(row: Mapping[str, Any]) -> Outgoing:
    return Outgoing(
        message_id=row["message_id"],
        channel=row["channel"],
        to=row["address"],
        subject=row["subject"],
        text=row["text"],
    )


async def record(session: AsyncSession, message_id: Any, handed: Handed, now: datetime) -> None:
    """``sent`` when the provider accepted the message, ``failed`` with why when not. A
    receipt that overtook this record has moved the message on already: only the counts
    are added then."""
    row = await messages_sql.message_by_id(session, message_id, lock=True)
    if row is None:
        return
    counts = {
        "provider": handed.provider,
        "attempts": row["attempts"] + handed.tries,
        "provider_message_id": handed.provider_message_id or row["provider_message_id"],
    }
    if row["status"] != Status.SENDING:
        await messages_sql.update_message(
            session, message_id, {**counts, "sent_at": row["sent_at"] or now}
        )
        return
    if handed.accepted:
        await move(session, row, Status.SENT, at=now, sent_at=now, due_at=None, **counts)
    else:
        await move(session, row, Status.FAILED, at=now, reason=handed.reason, due_at=None, **counts)
