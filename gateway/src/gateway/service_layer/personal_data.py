"""Masking the personal data in an upstream's answer, for a caller without ``pii:read``.

Only answers of routes marked ``personal`` in the routing table come here, so the other
routes forward bytes without ever parsing them. What cannot be masked is not passed on.
"""

from __future__ import annotations

import json

from gateway.adapters.upstream import UpstreamResponse
from gateway.domain.masking import mask_document

#: Describe the upstream's bytes, which masking replaces.
_STALE_AFTER_MASKING = frozenset({"content-length", "etag", "content-md5", "digest"})


class Unmaskable(Exception):
    """The answer is not plain JSON, so its personal data cannot be masked."""


def _header(response: UpstreamResponse, name: str) -> str:
    return next((v for n, v in response.headers if n.lower() == name), "")


def is_json(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def masked(response: UpstreamResponse) -> UpstreamResponse:
    """``response`` with its JSON body masked; ``Unmaskable`` when it is not JSON."""
    if not response.body:
        return response
    if _header(response, "content-encoding").lower() not in ("", "identity"):
        raise Unmaskable("the answer is compressed")
    if not is_json(_header(response, "content-type")):
        raise Unmaskable("the answer is not JSON")
    try:
        document = json.loads(response.body)
    except ValueError as exc:  # includes UnicodeDecodeError
        raise Unmaskable("the answer is not valid JSON") from exc
    body = json.dumps(mask_document(document), ensure_ascii=False, separators=(",", ":"))
    headers = [(n, v) for n, v in response.headers if n.lower() not in _STALE_AFTER_MASKING]
    return UpstreamResponse(response.status, headers, body.encode())
