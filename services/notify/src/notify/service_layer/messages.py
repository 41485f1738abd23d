"""Use cases of messages: a request over the API or from collections becomes exactly one
message per idempotency key; reads of messages and their history."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import messages_sql
from notify.domain.fallback import fallback_template
from notify.domain.issues import Issue
from notify.domain.messages import Status, fingerprint
from notify.service_layer import recipients
from notify.service_layer.refusals import Unprocessable
from notify.service_layer.rendering import render_message
from notify.service_layer.transitions import record_created
from shared.events import ContactRequested
from shared.pagination import decode_time_cursor, encode_time_cursor
from shared.problems import Conflict, NotFound, Problem

#: The pack of a message whose loan notify does not know (or that names no loan).
DEFAULT_PACK = "cn"


@dataclass(frozen=True, slots=True)
class MessageRequest:
    """``POST /api/v1/messages`` as validated by the route."""

    idempotency_key: str
    borrower_id: str
    loan_id: str | None
    channel: str
    template_id: str
    variables: Mapping[str, object]
    fallback: Sequence[str]

    def as_json(self) -> dict[str, object]:
        return {
            "idempotency_key": self.idempotency_key,
            "borrower_id": self.borrower_id,
            "loan_id": self.loan_id,
            "channel": self.channel,
            "template_id": self.template_id,
            "variables": dict(self.variables),
            "fallback": list(self.fallback),
        }


@dataclass(frozen=True, slots=True)
class Submitted:
    message: dict[str, Any]
    created: bool  # False: the same request again, answered with the message it made


@dataclass(frozen=True, slots=True)
class MessagePage:
    items: list[dict[str, Any]]
    next_cursor: str | None


async def submit_message(
    session: AsyncSession, request: MessageRequest, now: datetime
) -> Submitted:
    """Store a message to send (422 with every mistake, nothing stored); the same key and
    body again answer the first message, the same key with another body is a 409."""
    body = request.as_json()
    digest = fingerprint(body)
    existing = await messages_sql.message_by_key(session, request.idempotency_key)
    if existing is not None:
        return _replayed(existing, digest)
    pack = await _checked(session, request)
    values = _new_message(
        key=request.idempotency_key,
        digest=digest,
        now=now,
        borrower_id=request.borrower_id,
        loan_id=request.loan_id,
        channel=request.channel,
        template_id=request.template_id,
        variables=dict(request.variables),
        fallback=list(request.fallback),
        pack=pack,
    )
    stored = await messages_sql.insert_message(session, values)
    if stored is None:  # a concurrent request with the key committed first
        raced = await messages_sql.message_by_key(session, request.idempotency_key)
        if raced is None:
            raise Conflict("the idempotency key is in use by a request still in progress")
        return _replayed(raced, digest)
    await record_created(session, stored, now)
    return Submitted(stored, created=True)


async def request_contact(
    session: AsyncSession, requested: ContactRequested, now: datetime
) -> None:
    """Collections' allowed contact becomes one message keyed by its ``request_id``; a
    redelivery, or the same request re-published, finds it and changes nothing."""
    values = _new_message(
        key=str(requested.request_id),
        digest=fingerprint(requested.model_dump(mode="json")),
        now=now,
        request_id=requested.request_id,
        case_id=requested.case_id,
        borrower_id=requested.borrower_id,
        loan_id=requested.loan_id,
        recipient=requested.recipient,
        channel=requested.channel.value,
        template_id=requested.template_id,
        variables=dict(requested.variables),
        pack=requested.pack,
    )
    stored = await messages_sql.insert_message(session, values)
    if stored is not None:
        await record_created(session, stored, now)


async def get_message(session: AsyncSession, message_id: uuid.UUID) -> dict[str, Any]:
    """One message with its status history."""
    found = await messages_sql.message_by_id(session, message_id)
    if found is None:
        raise NotFound("message", str(message_id))
    return {**found, "history": await messages_sql.history(session, message_id)}


async def list_messages(
    session: AsyncSession, *, filters: Mapping[str, str], cursor: str | None, limit: int
) -> MessagePage:
    """Messages newest first, filtered, one page at a time."""
    after = decode_time_cursor(cursor)
    key = None if after is None else (after[0], _cursor_id(after[1]))
    rows = await messages_sql.list_messages(session, filters=filters, after=key, limit=limit + 1)
    items = rows[:limit]
    more = len(rows) > limit
    last = items[-1] if items else None
    cursor_out = (
        encode_time_cursor(last["created_at"], str(last["message_id"])) if more and last else None
    )
    return MessagePage(items, cursor_out)


def _cursor_id(ident: str) -> uuid.UUID:
    try:
        return uuid.UUID(ident)
    except ValueError:
        raise Problem(
            400, "Invalid cursor", "pass back the next_cursor of a previous page"
        ) from None


def _replayed(existing: dict[str, Any], digest: str) -> Submitted:
    if existing["fingerprint"] != digest:
        raise Conflict(
            "this idempotency key was used for another request",
            message_id=str(existing["message_id"]),
        )
    return Submitted(existing, created=False)


async def _checked(session: AsyncSession, request: MessageRequest) -> str:
    """The pack the message goes under, once the request is known to be sendable: the
    borrower and loan known, the template of the message's channel, its variables complete
    and its text passing lint (rendered as it would be for the borrower, then dropped)."""
    recipient = await recipients.recipient(session, request.borrower_id)
    if recipient is None:
        raise Unprocessable("Message refused", [Issue("borrower_id", "unknown borrower")])
    pack = DEFAULT_PACK
    if request.loan_id is not None:
        link = await recipients.loan_link(session, request.loan_id)
        if link is None or link[0] != request.borrower_id:
            issue = Issue(
                "loan_id", "unknown loan" if link is None else "a loan of another borrower"
            )
            raise Unprocessable("Message refused", [issue])
        pack = link[1]
    try:
        rendered = await render_message(
            session,
            request.template_id,
            locale=recipient.locale,
            variables=request.variables,
            pack=pack,
        )
    except NotFound:
        raise Unprocessable("Message refused", [Issue("template_id", "unknown template")]) from None
    if rendered.channel != request.channel:
        issue = Issue("channel", f"template {request.template_id!r} is for {rendered.channel}")
        raise Unprocessable("Message refused", [issue])
    issues = await _fallback_issues(session, request, recipient.locale, pack)
    if issues:
        raise Unprocessable("Message refused", issues)
    return pack


async def _fallback_issues(
    session: AsyncSession, request: MessageRequest, locale: str, pack: str
) -> list[Issue]:
    """Each fallback channel once, not the message's own, with its template
    (``<template_id>.<channel>``) rendering for the borrower as the message's does."""
    issues = []
    for i, channel in enumerate(request.fallback):
        field = f"fallback[{i}]"
        if channel == request.channel or channel in request.fallback[:i]:
            issues.append(Issue(field, "must be another channel than those before it"))
            continue
        template_id = fallback_template(request.template_id, channel, is_fallback=False)
        try:
            rendered = await render_message(
                session, template_id, locale=locale, variables=request.variables, pack=pack
            )
        except NotFound:
            issues.append(Issue(field, f"needs the template {template_id!r}"))
            continue
        except Unprocessable as refused:
            why = "; ".join(f"{i.field}: {i.message}" for i in refused.issues)
            issues.append(Issue(field, f"template {template_id!r}: {why}"))
            continue
        if rendered.channel != channel:
            issues.append(Issue(field, f"template {template_id!r} is for {rendered.channel}"))
    return issues


def _new_message(*, key: str, digest: str, now: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "message_id": uuid.uuid4(),
        "idempotency_key": key,
        "fingerprint": digest,
        "recipient": "borrower",
        "fallback": [],
        "status": Status.QUEUED.value,
        "due_at": now,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
        **fields,
    }
