"""The identity provider's JSON Web Key Set, fetched over HTTP without blocking the event loop.

httpx rather than the gateway's aiohttp sessions: this is one small GET every few minutes, not
the forwarding path, and PyJWT's own ``PyJWKClient`` would block the loop (it uses urllib).
"""

from __future__ import annotations

from typing import Any

import httpx


class JwksUnavailable(Exception):
    """The key set could not be fetched or is not a JSON Web Key Set."""


class JwksFetcher:
    """GETs one JWKS URL; the client is opened by ``start`` and closed by ``close``."""

    def __init__(self, url: str, *, timeout_s: float) -> None:
        self.url = url
        self._timeout = httpx.Timeout(timeout_s)
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __call__(self) -> list[dict[str, Any]]:
        """The set's ``keys``, each a JSON object; ``JwksUnavailable`` on any failure."""
        if self._client is None:
            raise RuntimeError("JwksFetcher.start() was not called")
        try:
            response = await self._client.get(self.url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise JwksUnavailable(f"{self.url}: {exc}") from exc
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise JwksUnavailable(f"{self.url}: not a JSON Web Key Set")
        return [k for k in keys if isinstance(k, dict)]
