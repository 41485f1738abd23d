"""Tracing: one OpenTelemetry trace from the gateway through every service and event hop.

W3C ``traceparent`` travels in HTTP headers, in NATS message headers and as a CloudEvents
extension attribute. Spans are exported over OTLP/HTTP when the standard
``OTEL_EXPORTER_OTLP_ENDPOINT`` variable is set; tests add an in-memory exporter instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_propagator = TraceContextTextMapPropagator()
_extra_processors: list[SpanProcessor] = []


def add_span_processor(processor: SpanProcessor) -> None:
    """Attach a processor to the global provider (used by tests for an in-memory exporter)."""
    _extra_processors.append(processor)
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.add_span_processor(processor)


def setup_tracing(service_name: str) -> None:
    """Install the global tracer provider once per process (idempotent)."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    for processor in _extra_processors:
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def current_traceparent() -> str | None:
    """The ``traceparent`` of the active span, or ``None`` outside any trace."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def inject_headers(headers: dict[str, str]) -> dict[str, str]:
    """Add the active trace context to outgoing HTTP or NATS headers."""
    _propagator.inject(headers)
    return headers


def context_from(headers: Mapping[str, str] | None) -> otel_context.Context:
    """The parent context carried by incoming headers (empty context when absent)."""
    return _propagator.extract(dict(headers or {}))


def trace_id_of(span: Span) -> str:
    return format(span.get_span_context().trace_id, "032x")
