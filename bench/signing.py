"""The signed principal a bench sends when it calls a service directly, as the gateway would.

Every service's API answers only a caller the gateway signed (``shared.principal``): a bench
that starts a service gives it :data:`PRINCIPAL_SECRET` (:data:`SECRET_ENV`) and signs its calls
with :class:`AsAdmin`.
"""

from __future__ import annotations

import time
from collections.abc import Generator

import httpx

from shared.principal import PRINCIPAL_HEADER, Principal, sign

PRINCIPAL_SECRET = "bench-principal-secret-" + "0" * 24
#: The environment a bench gives each service (and gateway) it starts.
SECRET_ENV = {"POSTLOAN_PRINCIPAL_SECRET": PRINCIPAL_SECRET}
BENCH_ADMIN = Principal("bench", frozenset({"admin"}), frozenset({"cases:read"}))


class AsAdmin(httpx.Auth):
    """Signs each request for ``principal`` (the bench's admin unless told)."""

    def __init__(self, principal: Principal = BENCH_ADMIN) -> None:
        self.principal = principal

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[PRINCIPAL_HEADER] = sign(
            self.principal,
            secret=PRINCIPAL_SECRET,
            method=request.method,
            path=request.url.path,
            now=time.time(),
        )
        yield request
