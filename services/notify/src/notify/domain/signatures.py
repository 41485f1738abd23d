"""Receipts' credential (BRIEF decision 10): ``X-PostLoan-Signature: sha256=<hex>``, the
HMAC-SHA256 of the raw request body under the channel's webhook secret."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The header value a provider sends with ``body``."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` signs exactly ``body`` (compared in constant time)."""
    if header is None or not header.startswith(PREFIX):
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().lower().encode())
