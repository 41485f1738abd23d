"""Forwarding a call to its upstream: trace context, circuit breaker, retries for reads."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from opentelemetry import trace

from gateway.adapters.upstream import Sender, UpstreamError

# The routes turn these into responses and problems; they reach them through this module.
from gateway.adapters.upstream import UpstreamResponse as UpstreamResponse
from gateway.adapters.upstream import UpstreamTimeout as UpstreamTimeout
from gateway.adapters.upstream import UpstreamUnreachable as UpstreamUnreachable
from gateway.domain.breaker import CircuitBreaker
from gateway.domain.forwarding import HeaderList
from gateway.domain.routing import Upstream
from shared.telemetry import inject_headers

#: Only reads are retried, and only when the upstream could not be reached.
RETRIED_METHODS = frozenset({"GET", "HEAD"})
RETRY_BACKOFF_S = 0.05


class CircuitOpen(UpstreamError):
    """The upstream failed repeatedly; calls are refused until a probe succeeds."""

    def __init__(self, upstream: str, retry_after: float) -> None:
        super().__init__(upstream, "circuit open")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Forward:
    """One call to pass on: ``target`` is the path and query exactly as the client sent them."""

    upstream: Upstream
    method: str
    target: str
    headers: HeaderList
    body: bytes | None


class Proxy:
    """Holds the upstream clients and a breaker for each."""

    def __init__(
        self,
        clients: Mapping[Upstream, Sender],
        *,
        get_retries: int,
        breaker: Callable[[], CircuitBreaker],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clients = dict(clients)
        self.breakers = {name: breaker() for name in clients}
        self._get_retries = get_retries
        self._clock = clock

    async def forward(self, call: Forward) -> UpstreamResponse:
        """Send the call with the current trace context; raise ``UpstreamError`` on failure.

        The upstream's span is a child of the gateway's request span: a client span of its
        own would cost about a tenth of the gateway's time per call, for one more box in the
        trace.
        """
        span = trace.get_current_span()
        span.set_attribute("postloan.upstream", call.upstream.value)
        headers = [*call.headers, *inject_headers({}).items()]
        try:
            return await self._with_retries(call, headers)
        except UpstreamError as exc:
            span.set_attribute("postloan.upstream_error", exc.reason)
            raise

    async def _with_retries(self, call: Forward, headers: HeaderList) -> UpstreamResponse:
        attempts = 1 + (self._get_retries if call.method in RETRIED_METHODS else 0)
        for attempt in range(1, attempts + 1):
            try:
                return await self._once(call, headers)
            except UpstreamUnreachable:
                if attempt == attempts:
                    raise
                await asyncio.sleep(RETRY_BACKOFF_S * attempt)
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _once(self, call: Forward, headers: HeaderList) -> UpstreamResponse:
        breaker = self.breakers[call.upstream]
        if not breaker.allow(self._clock()):
            raise CircuitOpen(call.upstream, breaker.retry_after(self._clock()))
        try:
            response = await self.clients[call.upstream].send(
                call.method, call.target, headers, call.body
            )
        except UpstreamError:
            breaker.record_failure(self._clock())
            raise
        breaker.record_success()
        return response
