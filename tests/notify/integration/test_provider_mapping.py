"""A real SMS provider plugged in by configuration alone, over real HTTP: its form-encoded
body, basic authentication, its own message id read from the answer and kept, and a 2xx
answer whose status means refused failing the message."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from notify.domain.signatures import sign
from notify.main import create_app
from notify.settings import NotifySettings
from postloan_testing.servers import running, serving
from principals import signed

from .conftest import Clock, Events, make_contact_request, with_changes
from .test_sending import message_reaching, prepared

#: A provider of the common shape: form fields, HTTP basic auth, an answer with sid/status.
FORM_MAPPING = json.dumps(
    {
        "body": {"To": "{to}", "From": "PostLoan", "Body": "{text}", "Reference": "{message_id}"},
        "encoding": "form",
        "auth": "basic",
        "id_field": "sid",
        "status_field": "status",
        "refused": ["failed", "undeliverable"],
    }
)


@dataclass
class FormProvider:
    """Answers every call with its own id and ``status``; keeps what it was sent."""

    status: str = "queued"
    calls: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        return FastAPI(routes=[Route("/2010-04-01/Messages.json", self._post, methods=["POST"])])

    async def _post(self, request: Request) -> JSONResponse:
        form = await request.form()
        self.calls.append(
            {
                "form": dict(form),
                "content_type": request.headers["content-type"],
                "authorization": request.headers.get("authorization"),
                "key": request.headers.get("idempotency-key"),
            }
        )
        sid = f"SM{len(self.calls):04d}"
        return JSONResponse({"sid": sid, "status": self.status}, status_code=201)


SECRET = "whsec-test-0123456789"


async def send_through(
    provider: FormProvider,
    settings: NotifySettings,
    clock: Clock,
    events: Events,
    receipt: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The message once handed over, or once ``receipt`` (signed) was posted after it."""
    async with serving(provider.app()) as base:
        configured = with_changes(
            settings,
            sms_provider_url=f"{base}/2010-04-01/Messages.json",
            sms_provider_token="AC123:secret",
            sms_provider_mapping=FORM_MAPPING,
            sms_webhook_secret=SECRET,
        )
        async with running(create_app(configured, clock=clock), auth=signed()) as client:
            await prepared(client, events)
            requested = make_contact_request()
            await events.publish(requested, domain="collections")
            message = await message_reaching(client, requested.request_id, {"sent", "failed"})
            if receipt is None:
                return message
            body = json.dumps(receipt).encode()
            headers = {
                "content-type": "application/json",
                "x-postloan-signature": sign(SECRET, body),
            }
            answer = await client.post(
                "/api/v1/providers/sms/receipts", content=body, headers=headers
            )
            assert answer.status_code == 200, answer.text
            detail: dict[str, Any] = (
                await client.get(f"/api/v1/messages/{message['message_id']}")
            ).json()
            return detail


async def test_a_form_encoded_provider_with_basic_auth_gets_the_message_and_its_id_is_kept(
    notify_settings: NotifySettings, clock: Clock, events: Events
) -> None:
    provider = FormProvider()

    message = await send_through(provider, notify_settings, clock, events)

    assert message["status"] == "sent", message
    assert message["provider_message_id"] == "SM0001"
    [call] = provider.calls
    assert call["content_type"] == "application/x-www-form-urlencoded"
    assert call["authorization"] == "Basic QUMxMjM6c2VjcmV0"  # AC123:secret
    assert call["key"] == message["message_id"]
    assert call["form"] == {
        "To": "+8613800000000",
        "From": "PostLoan",
        "Body": "张三，您本期应还1066.19元。",
        "Reference": message["message_id"],
    }


async def test_a_receipt_may_name_the_message_by_the_providers_own_id(
    notify_settings: NotifySettings, clock: Clock, events: Events
) -> None:
    receipt = {"provider_message_id": "SM0001", "status": "delivered", "at": "2026-02-16T02:00:05Z"}

    message = await send_through(FormProvider(), notify_settings, clock, events, receipt)

    assert (message["status"], message["provider_message_id"]) == ("delivered", "SM0001")
    assert message["delivered_at"] == "2026-02-16T02:00:05Z"


async def test_an_answer_whose_status_means_refused_fails_the_message_without_a_retry(
    notify_settings: NotifySettings, clock: Clock, events: Events
) -> None:
    provider = FormProvider(status="undeliverable")

    message = await send_through(provider, notify_settings, clock, events)

    assert (message["status"], message["reason"]) == (
        "failed",
        "provider_rejected: status undeliverable",
    )
    assert len(provider.calls) == 1


def test_a_wrong_mapping_stops_the_start_with_every_mistake(
    notify_settings: NotifySettings,
) -> None:
    with pytest.raises(ValidationError) as refused:
        with_changes(notify_settings, push_provider_mapping='{"auth": "token", "colour": 1}')

    assert "unknown key 'colour'" in str(refused.value)
    assert "auth must be" in str(refused.value)
