"""A loan posted through the gateway reaches every service in one trace."""

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from factories import make_registration
from postloan_testing.plugin import eventually
from shared.telemetry import add_span_processor, setup_tracing

from .conftest import SERVICES, Edge, Platform

_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> InMemorySpanExporter:
    if not getattr(_EXPORTER, "_installed", False):
        setup_tracing("postloan-tests")
        add_span_processor(SimpleSpanProcessor(_EXPORTER))
        _EXPORTER._installed = True  # type: ignore[attr-defined]
    _EXPORTER.clear()
    return _EXPORTER


def _trace_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.trace_id)


async def test_a_loan_posted_through_the_gateway_reaches_every_service_in_one_trace(
    platform: Platform, edge: Edge, spans: InMemorySpanExporter
) -> None:
    response = await edge.client.post(
        "/api/v1/loans", json=make_registration(loan_id="L-TRACE"), headers=edge.auth
    )
    assert response.status_code == 201, response.text

    for service in SERVICES:

        async def has_it(service: str = service) -> bool:
            return await platform.has_loan(service, "L-TRACE")

        await eventually(has_it, timeout=2.0)

    def consumer_spans() -> dict[str, ReadableSpan]:
        return {
            s.instrumentation_scope.name.rsplit(".", 1)[-1]: s
            for s in spans.get_finished_spans()
            if s.instrumentation_scope is not None
            and s.name == "consume postloan.monitoring.loan.registered.v1"
        }

    async def all_consumed() -> bool:
        return len(consumer_spans()) == 3

    await eventually(all_consumed, timeout=2.0)
    gateway_span = next(
        s
        for s in spans.get_finished_spans()
        if s.name == "POST /api/v1/loans"
        and s.instrumentation_scope is not None
        and s.instrumentation_scope.name == "gateway.http"
    )
    consumers = consumer_spans()
    assert set(consumers) == {"scoring-monitoring", "collections-monitoring", "notify-monitoring"}
    assert {_trace_id(s) for s in consumers.values()} == {_trace_id(gateway_span)}


async def test_the_gateway_reads_a_loan_from_monitoring_for_an_authenticated_user(
    edge: Edge,
) -> None:
    await edge.client.post("/api/v1/loans", json=make_registration(), headers=edge.auth)
    loan = await edge.client.get("/api/v1/loans/L-0001", headers=edge.auth)
    assert loan.status_code == 200
    assert loan.json()["schedule"][0]["amount"] == "1066.19"
    anonymous = await edge.client.get("/api/v1/loans/L-0001")
    assert anonymous.status_code == 401


async def test_a_malformed_registration_through_the_gateway_is_a_problem_naming_the_field(
    edge: Edge,
) -> None:
    response = await edge.client.post(
        "/api/v1/loans", json=make_registration(principal="1.234"), headers=edge.auth
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "principal" in [e["field"] for e in response.json()["errors"]]
    missing = await edge.client.get("/api/v1/loans/L-0001", headers=edge.auth)
    assert missing.status_code == 404
