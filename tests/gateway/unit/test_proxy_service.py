"""Forwarding policy: reads are retried when the upstream cannot be reached, writes never."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider

from gateway.adapters.upstream import UpstreamResponse, UpstreamTimeout, UpstreamUnreachable
from gateway.domain.breaker import CircuitBreaker
from gateway.domain.forwarding import HeaderList
from gateway.domain.routing import Upstream
from gateway.service_layer.proxy import CircuitOpen, Forward, Proxy

OK = UpstreamResponse(200, [], b"{}")


class ScriptedUpstream:
    """An upstream client that fails as scripted, then answers 200."""

    def __init__(self, *failures: Exception) -> None:
        self.failures: Iterator[Exception] = iter(failures)
        self.calls: list[HeaderList] = []

    async def send(
        self, method: str, target: str, headers: HeaderList, body: bytes | None
    ) -> UpstreamResponse:
        self.calls.append(headers)
        failure = next(self.failures, None)
        if failure is not None:
            raise failure
        return OK


def make_proxy(upstream: ScriptedUpstream, *, threshold: int = 5) -> Proxy:
    return Proxy(
        {Upstream.MONITORING: upstream},
        get_retries=1,
        breaker=lambda: CircuitBreaker(threshold=threshold, reset_after=30),
    )


def call(method: str) -> Forward:
    return Forward(Upstream.MONITORING, method, "/api/v1/loans/L-1", [("accept", "*/*")], None)


def unreachable() -> UpstreamUnreachable:
    return UpstreamUnreachable("monitoring", "connection refused")


async def test_a_read_is_retried_once_when_the_upstream_cannot_be_reached() -> None:
    upstream = ScriptedUpstream(unreachable())

    response = await make_proxy(upstream).forward(call("GET"))

    assert response is OK
    assert len(upstream.calls) == 2


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_a_write_is_never_retried(method: str) -> None:
    upstream = ScriptedUpstream(unreachable())

    with pytest.raises(UpstreamUnreachable):
        await make_proxy(upstream).forward(call(method))
    assert len(upstream.calls) == 1


async def test_a_read_that_timed_out_is_not_retried() -> None:
    upstream = ScriptedUpstream(UpstreamTimeout("monitoring", "slow"))

    with pytest.raises(UpstreamTimeout):
        await make_proxy(upstream).forward(call("GET"))
    assert len(upstream.calls) == 1


async def test_repeated_failures_open_the_circuit_and_calls_stop_reaching_the_upstream() -> None:
    upstream = ScriptedUpstream(*[unreachable()] * 4)
    proxy = make_proxy(upstream, threshold=4)
    for _ in range(2):
        with pytest.raises(UpstreamUnreachable):
            await proxy.forward(call("GET"))

    with pytest.raises(CircuitOpen) as refused:
        await proxy.forward(call("GET"))
    assert len(upstream.calls) == 4
    assert 0 < refused.value.retry_after <= 30


async def test_the_trace_context_of_the_current_span_is_added_to_the_forwarded_headers() -> None:
    upstream = ScriptedUpstream()

    with TracerProvider().get_tracer("test").start_as_current_span("request") as span:
        await make_proxy(upstream).forward(call("GET"))

    trace_id = format(span.get_span_context().trace_id, "032x")
    assert dict(upstream.calls[0])["traceparent"].split("-")[1] == trace_id
