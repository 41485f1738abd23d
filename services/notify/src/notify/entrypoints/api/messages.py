"""Routes of messages: a request to send one (idempotent on its key), and reads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from notify.domain.messages import Status
from notify.entrypoints.api.deps import ClockDep
from notify.service_layer import letters, messages
from shared.app import SessionDep
from shared.events import Channel
from shared.params import Cursor, PageLimit
from shared.types import ExternalId

router = APIRouter(prefix="/api/v1/messages", tags=["messages"])

Variable = StrictStr | StrictInt | StrictBool


class MessageRequestBody(BaseModel):
    """A message to send; ``idempotency_key`` makes it one message, however often it is sent."""

    model_config = ConfigDict(extra="forbid")

    idempotency_key: str = Field(min_length=1, max_length=200)
    borrower_id: ExternalId
    loan_id: ExternalId | None = None
    channel: Channel
    template_id: str = Field(min_length=1, max_length=100)
    variables: dict[str, Variable] = Field(default_factory=dict, max_length=100)
    fallback: list[Channel] = Field(default_factory=list, max_length=4)


class StatusChangePublic(BaseModel):
    status: Status
    reason: str | None
    deferred_until: datetime | None
    at: datetime


class MessagePublic(BaseModel):
    message_id: uuid.UUID
    idempotency_key: str
    request_id: uuid.UUID | None
    case_id: uuid.UUID | None
    borrower_id: str
    loan_id: str | None
    recipient: str
    channel: Channel
    template_id: str
    template_version: int | None
    locale: str | None
    status: Status
    reason: str | None
    deferred_until: datetime | None
    provider: str | None
    provider_message_id: str | None
    attempts: int
    fallback: list[Channel]
    fallback_of: uuid.UUID | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None


class MessageDetailPublic(MessagePublic):
    history: list[StatusChangePublic]


class MessagePage(BaseModel):
    items: list[MessagePublic]
    next_cursor: str | None


@router.post(
    "",
    response_model=MessagePublic,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        200: {"description": "The same request again: the message it made"},
        409: {"description": "The idempotency key was used for another request"},
        422: {"description": "Refused (unknown borrower or template, variables, lint)"},
    },
)
async def post_message(
    body: MessageRequestBody, response: Response, session: SessionDep, clock: ClockDep
) -> MessagePublic:
    """Accept a message to send (202); the same key and body again answer 200."""
    request = messages.MessageRequest(
        idempotency_key=body.idempotency_key,
        borrower_id=body.borrower_id,
        loan_id=body.loan_id,
        channel=body.channel.value,
        template_id=body.template_id,
        variables=body.variables,
        fallback=[c.value for c in body.fallback],
    )
    submitted = await messages.submit_message(session, request, clock())
    if not submitted.created:
        response.status_code = status.HTTP_200_OK
    return MessagePublic.model_validate(submitted.message)


@router.get("", response_model=MessagePage)
async def list_messages(
    session: SessionDep,
    borrower_id: ExternalId | None = None,
    loan_id: ExternalId | None = None,
    message_status: Annotated[Status | None, Query(alias="status")] = None,
    channel: Channel | None = None,
    cursor: Cursor | None = None,
    limit: PageLimit = 50,
) -> MessagePage:
    """Messages, newest first, filtered, one page at a time (pass ``next_cursor`` back)."""
    filters = {"borrower_id": borrower_id, "loan_id": loan_id, "status": message_status}
    filters["channel"] = channel
    page = await messages.list_messages(
        session,
        filters={k: str(v) for k, v in filters.items() if v is not None},
        cursor=cursor,
        limit=limit,
    )
    items = [MessagePublic.model_validate(m) for m in page.items]
    return MessagePage(items=items, next_cursor=page.next_cursor)


@router.get("/{message_id}", response_model=MessageDetailPublic)
async def get_message(message_id: uuid.UUID, session: SessionDep) -> MessageDetailPublic:
    """One message with every status it has had."""
    return MessageDetailPublic.model_validate(await messages.get_message(session, message_id))


@router.get(
    "/{message_id}/document",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The letter as printed"},
        404: {"description": "No such message, or it is not a rendered letter"},
    },
)
async def get_document(message_id: uuid.UUID, session: SessionDep) -> Response:
    """A letter's PDF (personal data: the gateway asks pii:read)."""
    pdf = await letters.letter_document(session, message_id)
    headers = {"Content-Disposition": f'inline; filename="letter-{message_id}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)
