import json
import logging
import sys

import pytest
from opentelemetry import trace

from shared.logs import JsonFormatter, RedactingFormatter, redact, setup_logging
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


def test_card_numbers_spaced_phones_and_ssns_are_masked() -> None:
    text = redact("card 6222 0212 3456 7890, phone 138-0013-9876, ssn 123-45-6789")
    assert "6222" not in text
    assert "9876" not in text
    assert "6789" not in text
    assert text == "card <number>, phone <number>, ssn <national-id>"


def test_a_national_id_ending_in_x_is_masked_whole() -> None:
    assert redact("id 11010519491231002X given") == "id <national-id> given"


def test_times_ids_amounts_and_trace_ids_are_left_readable() -> None:
    text = (
        "at 2026-02-16 10:00:00 loan L-0000000001 paid 12345678901.00 "
        "event 550e8400-e29b-41d4-a716-446655440000 trace 4bf92f3577b34da6a3ce929d0e0e4736"
    )
    assert redact(text) == text


def test_values_quoted_by_validation_and_database_errors_are_hidden() -> None:
    pydantic = "name\n  Value error [type=value_error, input_value='Zhang Sanfeng', input_type=str]"
    sql = "(sqlalchemy.exc.IntegrityError) duplicate\n[SQL: INSERT ...]\n[parameters: ('Zhang',)]"
    key = "DETAIL:  Key (name)=(Zhang Sanfeng) already exists."
    row = "DETAIL:  Failing row contains (B-1, Zhang Sanfeng, null)."
    text = redact("\n".join([pydantic, sql, key, row]))
    assert "Zhang" not in text
    assert "input_value=<hidden>, input_type=str" in text
    assert "Key (name)=(<hidden>) already exists" in text


def test_uvicorn_lines_go_through_the_masking_handler(capsys: pytest.CaptureFixture[str]) -> None:
    uvicorn_error = logging.getLogger("uvicorn.error")
    uvicorn_error.addHandler(logging.StreamHandler(sys.stderr))  # as uvicorn's own config does
    setup_logging("test-logs")
    uvicorn_error.error("Exception in ASGI application: mail zhang@example.com")
    lines = capsys.readouterr().err.splitlines()
    assert [json.loads(line)["msg"] for line in lines] == [
        "Exception in ASGI application: mail <email>"
    ]


def test_a_number_ending_a_sentence_is_masked() -> None:
    assert redact("call +8613800139876. Or 11010519491231002X: id") == (
        "call <number>. Or <national-id>: id"
    )
