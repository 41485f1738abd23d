"""The registration's later fields (``time_barred_on``, ``contacts``, the borrower's
``address``) are additive: a body without them fingerprints exactly as it did before they
existed, and the import's written-out fingerprint agrees with the model's when they are set."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from factories import make_registration
from monitoring.domain import import_fingerprints
from monitoring.domain.import_checks import check_loan
from monitoring.domain.import_fingerprints import registration_json
from monitoring.domain.imports import UNSUPPORTED, LoanIn, RowError
from monitoring.domain.loans import canonical_json, fingerprint, resolve
from monitoring.service_layer.import_files import _header_errors
from shared.events import LoanRegistered

ATTORNEY = {"recipient": "attorney", "name": "Ann Law", "phone": "+12025550100"}
ADDRESS = {"lines": ["上海市浦东新区", "世纪大道100号"], "postal_code": "200120", "country": "CN"}

# Fingerprints stored by the platform before the later fields existed (computed by main at
# 7becd13): the same body must keep them, or re-posting an old loan would answer 409.
STORED_BEFORE = {
    "full": "62be24385084f457f0c0c8eb1bc321308a0d5e811a17c10447d859a5767da245",
    "defaults": "6f26085b720209868458f5393d64dcdfe31735980965647a8777e3b5c645b15e",
}


def _defaults_omitted() -> dict[str, Any]:
    body = make_registration(schedule=None)
    del body["borrower"]["email"], body["first_due_on"]
    return body


def test_a_body_without_the_later_fields_keeps_the_fingerprint_stored_before() -> None:
    assert fingerprint(LoanRegistered.model_validate(make_registration())) == STORED_BEFORE["full"]
    assert (
        fingerprint(LoanRegistered.model_validate(_defaults_omitted()))
        == (STORED_BEFORE["defaults"])
    )


def test_later_fields_spelled_out_as_null_fingerprint_as_left_out() -> None:
    body = make_registration(time_barred_on=None, contacts=None)
    body["borrower"]["address"] = None
    assert fingerprint(LoanRegistered.model_validate(body)) == STORED_BEFORE["full"]


@pytest.mark.parametrize(
    "later",
    [{"time_barred_on": "2029-06-30"}, {"contacts": [ATTORNEY]}, {"contacts": []}],
)
def test_a_later_field_set_is_part_of_the_fingerprint(later: dict[str, Any]) -> None:
    assert (
        fingerprint(LoanRegistered.model_validate(make_registration(**later)))
        != (STORED_BEFORE["full"])
    )


def test_an_address_is_part_of_the_fingerprint() -> None:
    body = make_registration()
    body["borrower"]["address"] = ADDRESS
    model = LoanRegistered.model_validate(body)
    assert canonical_json(model)["borrower"]["address"] == ADDRESS
    assert fingerprint(model) != STORED_BEFORE["full"]


@pytest.mark.parametrize("body", [make_registration(schedule=None), _defaults_omitted()])
@pytest.mark.parametrize("barred", [None, "2029-06-30"])
def test_the_imports_fast_path_fingerprints_as_the_model_with_or_without_time_barred_on(
    body: dict[str, Any], barred: str | None
) -> None:
    if barred is not None:
        body = body | {"time_barred_on": barred}
    checked = check_loan(body, row=1)
    assert isinstance(checked, LoanIn)
    model = LoanRegistered.model_validate(body)
    registration = registration_json(checked)
    assert registration == canonical_json(model)
    written = import_fingerprints.fingerprint(registration)
    assert written == fingerprint(model)
    sorted_json = json.dumps(registration, sort_keys=True)
    assert written == hashlib.sha256(sorted_json.encode()).hexdigest()


def test_time_barred_on_in_another_spelling_takes_the_model_path_with_the_same_result() -> None:
    plain = check_loan(make_registration(time_barred_on="2029-06-30"), row=1)
    spelled = check_loan(make_registration(time_barred_on="2029-06-30", annual_rate=0.12), row=1)
    assert isinstance(plain, LoanIn)
    assert isinstance(spelled, LoanIn)
    assert registration_json(plain) == registration_json(spelled)
    assert spelled.time_barred_on is not None
    assert spelled.time_barred_on.isoformat() == "2029-06-30"


def test_an_imported_loan_carries_time_barred_on_in_its_event() -> None:
    body = make_registration(time_barred_on="2029-06-30")
    accepted = resolve(LoanRegistered.model_validate(body)).accepted
    assert accepted.time_barred_on is not None
    assert accepted.time_barred_on.isoformat() == "2029-06-30"


def test_a_bad_time_barred_on_is_refused_naming_it() -> None:
    errors = check_loan(make_registration(time_barred_on="2029-02-30"), row=4)
    assert isinstance(errors, list)
    assert [(e.row, e.field) for e in errors] == [(4, "time_barred_on")]


def test_contacts_and_an_address_are_refused_by_the_import_not_dropped() -> None:
    body = make_registration(contacts=[ATTORNEY])
    body["borrower"]["address"] = ADDRESS
    errors = check_loan(body, row=9)
    assert errors == [
        RowError("loans", 9, "contacts", UNSUPPORTED),
        RowError("loans", 9, "borrower.address", UNSUPPORTED),
    ]


def test_csv_columns_for_contacts_and_address_are_refused_saying_why() -> None:
    header = ["loan_id", "borrower_id", "borrower_address", "contacts", "time_barred_on"]
    found = {e.field: e.reason for e in _header_errors(header, "loans")}
    assert found["borrower_address"] == UNSUPPORTED
    assert found["contacts"] == UNSUPPORTED
    assert "time_barred_on" not in found
