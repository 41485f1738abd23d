"""The generic HTTP provider of SMS, push and voice (BRIEF section 5): ``POST`` of
``{"message_id", "to", "text"}`` with ``Idempotency-Key: <message_id>`` and, when a token is
configured, ``Authorization: Bearer <token>``. 2xx: accepted; 408, 429, 5xx and time-outs:
tried again with back-off; any other answer: refused."""

from __future__ import annotations

import httpx

from notify.adapters.channels.base import Handed, Outgoing, Permanent, Transient, with_retries
from notify.domain.retry import RetryPolicy, is_transient_status


class HttpProvider:
    name = "http"

    def __init__(
        self, url: str, *, token: str | None, timeout_s: float, policy: RetryPolicy
    ) -> None:
        self._url = url
        self._policy = policy
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.AsyncClient(timeout=timeout_s, headers=headers)

    async def send(self, message: Outgoing) -> Handed:
        return await with_retries(lambda: self._post(message), self._policy, provider=self.name)

    async def _post(self, message: Outgoing) -> None:
        body = {"message_id": str(message.message_id), "to": message.to, "text": message.text}
        headers = {"Idempotency-Key": str(message.message_id)}
        try:
            answer = await self._client.post(self._url, json=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise Transient("provider_timeout") from exc
        except httpx.TransportError as exc:
            raise Transient(f"provider_unreachable: {type(exc).__name__}") from exc
        if answer.is_success:
            return
        if is_transient_status(answer.status_code):
            retry_after = _seconds(answer.headers.get("retry-after"))
            raise Transient(f"provider_unavailable: HTTP {answer.status_code}", retry_after)
        raise Permanent(f"provider_rejected: HTTP {answer.status_code}")

    async def close(self) -> None:
        await self._client.aclose()


def _seconds(header: str | None) -> float | None:
    """A ``Retry-After`` in seconds (an HTTP date is ignored: the back-off applies)."""
    if header is None or not header.strip().isdigit():
        return None
    return float(header.strip())
