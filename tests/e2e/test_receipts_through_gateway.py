"""Providers' receipts cross the gateway without a bearer token: the gateway asks for the
signature header and forwards it with the raw body unchanged; notify checks the HMAC."""

from __future__ import annotations

import hashlib
import hmac
import uuid

from .conftest import SMS_WEBHOOK_SECRET, Edge

PATH = "/api/v1/providers/sms/receipts"


def signature(body: bytes, secret: str = SMS_WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def test_a_receipt_needs_no_token_but_its_signature_which_notify_checks(edge: Edge) -> None:
    body = b'{"message_id": "%s", "status": "delivered", "at": "2026-02-16T02:00:00Z"}' % (
        str(uuid.uuid4()).encode()
    )
    unsigned = await edge.client.post(PATH, content=body)
    assert unsigned.status_code == 401  # the gateway: no signature header
    forged = await edge.client.post(
        PATH, content=body, headers={"X-PostLoan-Signature": signature(body, "x")}
    )
    assert forged.status_code == 401  # notify: the signature does not match the raw body
    signed = await edge.client.post(
        PATH, content=body,
        headers={"X-PostLoan-Signature": signature(body), "Content-Type": "application/json"},
    )  # fmt: skip
    assert signed.status_code == 404  # notify checked the signature, then found no such message
    assert "message" in signed.json()["detail"]
