"""Tracing: one OpenTelemetry trace from the gateway through every service and event hop.

W3C ``traceparent`` travels in HTTP headers, in NATS message headers and as a CloudEvents
extension attribute. Spans are exported over OTLP/HTTP when the standard
``OTEL_EXPORTER_OTLP_ENDPOINT`` variable is set, and as JSON lines appended to the file that
``POSTLOAN_TRACES_FILE`` names; tests may add an in-memory exporter too. Every exported span
passes through :func:`shared.logs.redact` first (name, attributes, events, status): personal
data quoted by an exception or a path never leaves the process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import Span, Status
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shared.logs import redact

#: A file spans are appended to, one JSON object a line (set per process: one file each).
TRACES_FILE_VARIABLE = "POSTLOAN_TRACES_FILE"

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
    for exporter in _configured_exporters():
        provider.add_span_processor(BatchSpanProcessor(RedactingExporter(exporter)))
    for processor in _extra_processors:
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)


def _configured_exporters() -> list[SpanExporter]:
    exporters: list[SpanExporter] = []
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporters.append(OTLPSpanExporter())
    if path := os.environ.get(TRACES_FILE_VARIABLE):
        exporters.append(file_exporter(Path(path)))
    return exporters


def file_exporter(path: Path) -> SpanExporter:
    """Spans appended to ``path`` as JSON lines (the SDK's own JSON form of a span)."""
    out = path.open("a", encoding="utf-8", buffering=1)  # closed when the process ends
    return ConsoleSpanExporter(out=out, formatter=lambda span: span.to_json(indent=None) + "\n")


class RedactingExporter(SpanExporter):
    """Hands ``inner`` each span with its name, attributes, events and status redacted."""

    def __init__(self, inner: SpanExporter) -> None:
        self._inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._inner.export([redacted(span) for span in spans])

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


def redacted(span: ReadableSpan) -> ReadableSpan:
    """A copy of ``span`` with every text in it passed through :func:`redact`."""
    status = span.status
    if status.description:
        status = Status(status.status_code, redact(status.description))
    return ReadableSpan(
        name=redact(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_redacted_attributes(span.attributes),
        events=[
            Event(e.name, _redacted_attributes(e.attributes), timestamp=e.timestamp)
            for e in span.events
        ],
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _redacted_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    return {key: _redacted_value(value) for key, value in (attributes or {}).items()}


def _redacted_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, tuple | list):
        return tuple(redact(v) if isinstance(v, str) else v for v in value)
    return value


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
