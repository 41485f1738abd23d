import json
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.telemetry import RedactingExporter, file_exporter


def test_exported_spans_lose_personal_data_in_names_attributes_events_and_status() -> None:
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RedactingExporter(exported)))
    try:
        with provider.get_tracer("test").start_as_current_span(
            "GET /api/v1/borrowers/+8613800139876",
            attributes={"url.path": "/lookup/pii@example.org", "ids": ["11010519491231002X"]},
        ):
            raise ValueError("bad card 6222 0212 3456 7890")
    except ValueError:
        pass
    [span] = exported.get_finished_spans()
    text = span.to_json()
    for value in ("13800139876", "pii@example.org", "11010519491231002X", "6222 0212"):
        assert value not in text
    assert span.name == "GET /api/v1/borrowers/<number>"
    assert span.attributes == {"url.path": "/lookup/<email>", "ids": ("<national-id>",)}
    assert span.status.description == "ValueError: bad card <number>"
    assert dict(span.events[0].attributes or {})["exception.message"] == "bad card <number>"


def test_spans_can_be_written_to_a_file_as_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RedactingExporter(file_exporter(path))))
    for name in ("first", "second"):
        with provider.get_tracer("test").start_as_current_span(name):
            pass
    provider.shutdown()
    lines = path.read_text().splitlines()
    assert [json.loads(line)["name"] for line in lines] == ["first", "second"]
