"""The local sink's contents: messages of channels that have no provider configured."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from notify.service_layer import sink
from shared.app import SessionDep
from shared.events import Channel
from shared.params import Cursor, PageLimit

router = APIRouter(prefix="/api/v1/notify", tags=["notify"])


class SinkMessagePublic(BaseModel):
    message_id: uuid.UUID
    channel: Channel
    address: str
    subject: str | None
    text: str
    received_at: datetime


class SinkPage(BaseModel):
    items: list[SinkMessagePublic]
    next_cursor: str | None


@router.get("/sink", response_model=SinkPage)
async def get_sink(
    session: SessionDep,
    channel: Channel | None = None,
    cursor: Cursor | None = None,
    limit: PageLimit = 50,
) -> SinkPage:
    """What the local sink received, newest first (personal data: the gateway asks pii:read)."""
    page = await sink.received(session, channel=channel, cursor=cursor, limit=limit)
    items = [SinkMessagePublic.model_validate(r) for r in page.items]
    return SinkPage(items=items, next_cursor=page.next_cursor)
