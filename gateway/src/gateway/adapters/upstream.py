"""The HTTP client of one upstream service: a pooled aiohttp session, built in the lifespan.

aiohttp rather than httpx, by measurement: on a 2-core machine a minimal proxy in front of a
trivial uvicorn endpoint forwarded ~2,800-4,400 requests/s with aiohttp, ~1,600-1,800/s with
httpx on the ``httpx-aiohttp`` transport and ~500/s with httpx's default transport (each
pair measured in the same run, 8 concurrent clients).
Failures are sorted into the two kinds the gateway answers differently: the upstream could
not be reached (502) or did not answer in time (504).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import aiohttp
from yarl import URL

from gateway.domain.forwarding import HeaderList


class UpstreamError(Exception):
    def __init__(self, upstream: str, reason: str) -> None:
        super().__init__(f"{upstream}: {reason}")
        self.upstream = upstream
        self.reason = reason


class UpstreamUnreachable(UpstreamError):
    """No connection, or the connection broke before a response arrived."""


class UpstreamTimeout(UpstreamError):
    """The upstream accepted the request but did not answer within the timeout."""


@dataclass(frozen=True)
class UpstreamResponse:
    status: int
    headers: HeaderList
    body: bytes


class Sender(Protocol):
    async def send(
        self, method: str, target: str, headers: HeaderList, body: bytes | None
    ) -> UpstreamResponse: ...


class UpstreamClient:
    """Sends requests to one service; ``start()`` and ``close()`` bracket its use."""

    def __init__(
        self, name: str, base_url: str, *, timeout: float, connect_timeout: float, pool_size: int
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout)
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self._pool_size, keepalive_timeout=30)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError(f"upstream {self.name}: start() has not been called")
        return self._session

    def _header(self, name: bytes, value: bytes) -> tuple[str, str]:
        """A response header; a redirect to the upstream itself becomes a relative one."""
        key, text = name.decode("latin-1"), value.decode("latin-1")
        if key.lower() == "location" and text.startswith(self.base_url + "/"):
            text = text.removeprefix(self.base_url)
        return key, text

    async def send(
        self, method: str, target: str, headers: HeaderList, body: bytes | None
    ) -> UpstreamResponse:
        """Send ``method target`` (path and query, already encoded) and read the response."""
        url = URL(self.base_url + target, encoded=True)
        try:
            async with self.session.request(
                method, url, headers=headers, data=body, allow_redirects=False
            ) as response:
                payload = await response.read()
                received = [self._header(k, v) for k, v in response.raw_headers]
                return UpstreamResponse(response.status, received, payload)
        except aiohttp.ConnectionTimeoutError as exc:
            raise UpstreamUnreachable(self.name, "connect timeout") from exc
        except TimeoutError as exc:
            raise UpstreamTimeout(self.name, "no response in time") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamUnreachable(self.name, type(exc).__name__) from exc
