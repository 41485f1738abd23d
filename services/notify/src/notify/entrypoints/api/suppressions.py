"""Routes of suppressions: addresses no message on their channel may go to."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from notify.entrypoints.api.deps import ClockDep
from notify.service_layer import suppressions
from shared.app import SessionDep
from shared.params import Cursor, PageLimit, Text
from shared.principal import PrincipalDep

router = APIRouter(prefix="/api/v1/suppressions", tags=["suppressions"])

SuppressedChannel = Literal["sms", "email", "push", "voice"]
Reason = Literal["opt_out", "hard_bounce", "invalid_address", "complaint"]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")


class SuppressionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: SuppressedChannel
    address: str = Field(min_length=1, max_length=254)
    reason: Reason

    @field_validator("address")
    @classmethod
    def _address_of_its_channel(cls, address: str, info: ValidationInfo) -> str:
        channel = info.data.get("channel")  # absent when the channel itself was wrong
        if channel == "email" and not _EMAIL.match(address.strip()):
            raise ValueError("not an e-mail address")
        spaced = "".join(c for c in address.strip() if c not in " -()")
        if channel in ("sms", "voice") and not _PHONE.match(spaced):
            raise ValueError("not a phone number in E.164 (+8613800000000)")
        return address


class SuppressionPublic(BaseModel):
    suppression_id: uuid.UUID
    channel: SuppressedChannel
    address: str
    reason: Reason
    message_id: uuid.UUID | None
    created_by: str | None
    created_at: datetime


class SuppressionPage(BaseModel):
    items: list[SuppressionPublic]
    next_cursor: str | None


@router.post(
    "",
    response_model=SuppressionPublic,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "The address was suppressed on the channel already"}},
)
async def post_suppression(
    body: SuppressionRequest,
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> SuppressionPublic:
    """Suppress an address on a channel: from now on no message there is sent (blocked)."""
    recorded = await suppressions.suppress(
        session,
        channel=body.channel,
        address=body.address,
        reason=body.reason,
        at=clock(),
        actor=principal.subject,
    )
    if not recorded.created:
        response.status_code = status.HTTP_200_OK
    return SuppressionPublic.model_validate(recorded.suppression)


@router.get("", response_model=SuppressionPage)
async def list_suppressions(
    session: SessionDep,
    channel: SuppressedChannel | None = None,
    address: Text | None = None,
    cursor: Cursor | None = None,
    limit: PageLimit = 50,
) -> SuppressionPage:
    """Suppressions, newest first (personal data: the gateway asks pii:read)."""
    page = await suppressions.list_suppressions(
        session, channel=channel, address=address, cursor=cursor, limit=limit
    )
    items = [SuppressionPublic.model_validate(s) for s in page.items]
    return SuppressionPage(items=items, next_cursor=page.next_cursor)


@router.delete("/{suppression_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_suppression(suppression_id: uuid.UUID, session: SessionDep) -> Response:
    """Lift a suppression (messages blocked by it stay blocked)."""
    await suppressions.lift(session, suppression_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
