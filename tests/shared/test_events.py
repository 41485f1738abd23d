from decimal import Decimal

import pytest
from pydantic import ValidationError

from factories import make_registration
from shared.events import BY_TYPE, CATALOGUE, CloudEvent, LoanRegistered, make_event


def test_every_event_type_is_versioned_and_unique() -> None:
    assert len(BY_TYPE) == len(CATALOGUE)
    assert all(spec.type.endswith(".v1") for spec in CATALOGUE)


def test_a_registration_round_trips_through_the_envelope_with_money_as_strings() -> None:
    payload = LoanRegistered.model_validate(make_registration())
    event = make_event(payload, source="test", subject="L-0001", domain="ingest")
    wire = event.model_dump_json()
    assert '"principal":"12000.00"' in wire
    parsed = CloudEvent.model_validate_json(wire)
    assert parsed.payload() == payload
    assert parsed.spec.subject == "postloan.ingest.loan.registered"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("principal", "-1.00"),
        ("principal", "100.001"),
        ("currency", "cny"),
        ("term_months", 0),
        ("disbursed_on", "2026-13-01"),
        ("first_due_on", "2026-01-10"),
        ("repayment_method", "balloon"),
    ],
)
def test_a_registration_with_a_bad_field_is_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        LoanRegistered.model_validate(make_registration() | {field: value})
    assert info.value.error_count() >= 1


def test_money_keeps_exact_decimals() -> None:
    payload = LoanRegistered.model_validate(make_registration(principal="0.10"))
    assert payload.principal == Decimal("0.10")
