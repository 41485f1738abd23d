"""Providers' delivery receipts, signed with the channel's webhook secret (no bearer token)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from notify.domain.signatures import signature_valid
from notify.entrypoints.api.deps import ClockDep, SettingsDep
from notify.entrypoints.api.messages import MessagePublic
from notify.service_layer import receipts
from shared.app import SessionDep
from shared.params import Instant
from shared.problems import Problem, validation_errors
from shared.types import ExternalId

router = APIRouter(prefix="/api/v1/providers", tags=["receipts"])


class ReceiptBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: uuid.UUID | None = None
    # The provider's own id instead, where its mapping reads one (``id_field``).
    provider_message_id: str | None = Field(default=None, min_length=1, max_length=200)
    status: Literal["delivered", "failed"]
    at: Instant
    reason: Literal["hard_bounce", "invalid_address", "complaint"] | None = None


@router.post(
    "/{channel}/receipts",
    response_model=MessagePublic,
    responses={
        401: {"description": "Missing or wrong X-PostLoan-Signature; nothing changed"},
        409: {"description": "This receipt was applied already; nothing changed"},
    },
)
async def post_receipt(
    channel: ExternalId,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    signature: Annotated[str | None, Header(alias="x-postloan-signature")] = None,
) -> MessagePublic:
    """A provider's receipt: the message delivered, or failed (and why)."""
    raw = await request.body()  # the signature covers the bytes as sent
    secret = settings.webhook_secret(channel)
    if secret is None or not signature_valid(secret, raw, signature):
        raise Problem(401, "Unauthorized", "the receipt's X-PostLoan-Signature is missing or wrong")
    try:
        body = ReceiptBody.model_validate_json(raw)
    except ValidationError as exc:
        errors = validation_errors(list(exc.errors()))
        raise Problem(422, "Invalid receipt", "the body is not a receipt", errors=errors) from None
    if (body.message_id is None) == (body.provider_message_id is None):
        issue = {"field": "message_id", "message": "give message_id or provider_message_id"}
        raise Problem(422, "Invalid receipt", "the body is not a receipt", errors=[issue])
    receipt = receipts.Receipt(
        body.message_id, body.status, body.at, body.reason, body.provider_message_id
    )
    moved = await receipts.apply_receipt(session, channel, receipt, clock())
    return MessagePublic.model_validate(moved)
