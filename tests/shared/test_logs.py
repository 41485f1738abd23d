import json
import logging

from opentelemetry import trace

from shared.logs import JsonFormatter, RedactingFormatter, redact
from shared.telemetry import setup_tracing


def _record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("test", logging.INFO, __file__, 1, msg, args, None)


def test_phone_numbers_emails_and_national_ids_never_reach_the_log() -> None:
    text = redact("call +8613800000000 or mail zhang@example.com, id 110101199001011234")
    assert "13800000000" not in text
    assert "zhang@example.com" not in text
    assert "110101199001011234" not in text
    assert "<email>" in text


def test_json_logs_carry_the_trace_id_of_the_active_span() -> None:
    setup_tracing("test-logs")
    formatter = JsonFormatter("monitoring")
    with trace.get_tracer("test").start_as_current_span("work") as span:
        entry = json.loads(formatter.format(_record("loan %s for %s", "L-1", "+8613800000000")))
    assert entry["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert entry["service"] == "monitoring"
    assert "+8613800000000" not in entry["msg"]


def test_plain_logs_mask_the_message_but_keep_the_timestamp() -> None:
    formatter = RedactingFormatter("%(asctime)s %(message)s")
    line = formatter.format(_record("contact zhang@example.com"))
    assert "<email>" in line
    assert "<number>" not in line.split(" ", 2)[1]  # the time of day is not taken for a phone
