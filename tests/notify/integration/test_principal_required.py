"""Notify answers only the gateway's signed principal (issue 16): 401 without it, or with a
forged, expired or replayed one; health, readiness, metrics and the documents stay open. The
providers' receipts are the exception: their credential is the webhook signature, no principal."""

from __future__ import annotations

import json
import uuid

import httpx

from notify.domain.signatures import sign
from notify.main import create_app
from notify.settings import NotifySettings
from postloan_testing.servers import running
from principals import (
    OPEN_PATHS,
    UNSIGNED,
    assert_all_401_problems,
    make_principal,
    refused_calls,
    signed,
)

from .conftest import Clock, with_changes

PATH = "/api/v1/suppressions"
RECEIPTS = "/api/v1/providers/sms/receipts"
SECRET = "whsec-test-0123456789"


async def test_a_call_without_a_valid_principal_is_a_401_problem(
    notify: httpx.AsyncClient,
) -> None:
    assert_all_401_problems(await refused_calls(notify, "GET", PATH))
    assert_all_401_problems(await refused_calls(notify, "PUT", "/api/v1/templates/t-1"))


async def test_a_signed_call_passes_and_the_open_routes_need_none(
    notify: httpx.AsyncClient,
) -> None:
    assert (await notify.get(PATH)).status_code == 200
    for path in OPEN_PATHS:
        assert (await notify.get(path, auth=UNSIGNED)).status_code == 200, path


async def test_a_suppression_records_the_signed_caller_not_the_subject_header(
    notify: httpx.AsyncClient,
) -> None:
    body = {"channel": "sms", "address": "+8613800000001", "reason": "opt_out"}
    created = await notify.post(
        PATH,
        json=body,
        headers={"x-postloan-subject": "mallory"},
        auth=signed(make_principal("alice")),
    )
    assert created.status_code == 201, created.text
    assert created.json()["created_by"] == "alice"


async def test_a_providers_receipt_needs_its_signature_not_a_principal(
    notify_settings: NotifySettings, clock: Clock
) -> None:
    settings = with_changes(notify_settings, sms_webhook_secret=SECRET)
    receipt = {
        "message_id": str(uuid.uuid4()),
        "status": "delivered",
        "at": "2026-02-16T10:00:05+08:00",
    }
    raw = json.dumps(receipt).encode()
    headers = {"content-type": "application/json"}
    async with running(create_app(settings, clock=clock)) as provider:  # no principal at all
        unsigned = await provider.post(RECEIPTS, content=raw, headers=headers)
        signed_receipt = await provider.post(
            RECEIPTS, content=raw, headers={**headers, "x-postloan-signature": sign(SECRET, raw)}
        )

    assert unsigned.status_code == 401
    assert "X-PostLoan-Signature" in unsigned.json()["detail"]  # the route's own check
    # Past the signature, the route looks the message up: this one is unknown.
    assert signed_receipt.status_code == 404, signed_receipt.text
