"""The HTTP provider of SMS, push and voice. By default the generic one of BRIEF section 5:
``POST`` of ``{"message_id", "to", "text"}`` with ``Idempotency-Key: <message_id>`` and, when a
token is configured, ``Authorization: Bearer <token>``. A real provider's request body, its
authentication and the fields of its answer are configuration (``domain.provider_mapping``).
2xx: accepted (unless the answer's status is one the mapping calls refused); 408, 429, 5xx and
time-outs: tried again with back-off; any other answer: refused."""

from __future__ import annotations

from typing import Any

import httpx

from notify.adapters.channels.base import Handed, Outgoing, Permanent, Transient, with_retries
from notify.domain.provider_mapping import ProviderMapping
from notify.domain.retry import RetryPolicy, is_transient_status


class HttpProvider:
    name = "http"

    def __init__(
        self,
        url: str,
        *,
        token: str | None,
        timeout_s: float,
        policy: RetryPolicy,
        mapping: ProviderMapping | None = None,
    ) -> None:
        self._url = url
        self._policy = policy
        self._mapping = mapping or ProviderMapping()
        headers = self._mapping.auth_headers(token)
        self._client = httpx.AsyncClient(timeout=timeout_s, headers=headers)

    async def send(self, message: Outgoing) -> Handed:
        return await with_retries(lambda: self._post(message), self._policy, provider=self.name)

    def _request(self, message: Outgoing) -> dict[str, Any]:
        values = {
            "message_id": str(message.message_id),
            "to": message.to,
            "text": message.text,
            "subject": message.subject,
            "channel": message.channel,
        }
        body = self._mapping.request_body(values)
        headers = {"Idempotency-Key": str(message.message_id)}
        if self._mapping.encoding == "form":
            return {"data": body, "headers": headers}
        return {"json": body, "headers": headers}

    async def _post(self, message: Outgoing) -> str | None:
        try:
            answer = await self._client.post(self._url, **self._request(message))
        except httpx.TimeoutException as exc:
            raise Transient("provider_timeout") from exc
        except httpx.TransportError as exc:
            raise Transient(f"provider_unreachable: {type(exc).__name__}") from exc
        if answer.is_success:
            return self._accepted(answer)
        if is_transient_status(answer.status_code):
            retry_after = _seconds(answer.headers.get("retry-after"))
            raise Transient(f"provider_unavailable: HTTP {answer.status_code}", retry_after)
        raise Permanent(f"provider_rejected: HTTP {answer.status_code}")

    def _accepted(self, answer: httpx.Response) -> str | None:
        """The provider's id of the message; a status the mapping calls refused fails it."""
        try:
            parsed: object = answer.json()
        except ValueError:
            parsed = None  # an empty or non-JSON 2xx: accepted, without an id
        provider_id, status = self._mapping.read_answer(parsed)
        if status is not None and status in self._mapping.refused:
            raise Permanent(f"provider_rejected: status {status}")
        return provider_id

    async def close(self) -> None:
        await self._client.aclose()


def _seconds(header: str | None) -> float | None:
    """A ``Retry-After`` in seconds (an HTTP date is ignored: the back-off applies)."""
    if header is None or not header.strip().isdigit():
        return None
    return float(header.strip())
