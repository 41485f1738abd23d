"""The import's row checks agree with the API's models, and its records with the ledger's."""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factories import make_registration
from monitoring.adapters.copy_schedules import contract_schedule
from monitoring.adapters.import_events import EventBodies
from monitoring.domain import import_fingerprints, import_history
from monitoring.domain.import_checks import RowChecks, check_loan, check_payment
from monitoring.domain.import_fingerprints import registration_json
from monitoring.domain.import_schedules import schedule_of
from monitoring.domain.imports import LoanIn, Product, RowError, csv_column, loan_body_from_csv
from monitoring.domain.loans import canonical_json, fingerprint, resolve
from monitoring.domain.schedule import Instalment, build_schedule
from monitoring.service_layer import bulk_import
from monitoring.service_layer.payments import fingerprint as payment_fingerprint
from shared.events import CloudEvent, LoanRegistered, PaymentReceived


def _loan(body: dict[str, Any]) -> LoanIn:
    checked = check_loan(body, row=1)
    assert isinstance(checked, LoanIn), checked
    return checked


def _fields(errors: LoanIn | list[RowError]) -> list[str]:
    assert isinstance(errors, list)
    return [e.field for e in errors]


def test_a_valid_row_holds_the_values_and_fingerprint_of_the_registration() -> None:
    body = make_registration(schedule=None)
    loan = _loan(body)
    model = LoanRegistered.model_validate(body)
    assert registration_json(loan) == canonical_json(model)
    assert import_fingerprints.fingerprint(registration_json(loan)) == fingerprint(model)


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(min_size=1, max_size=20),
    email=st.one_of(st.none(), st.text(max_size=10)),
    national_id=st.one_of(st.none(), st.text(max_size=10)),
    first_due_on=st.one_of(st.none(), st.just("2026-02-15")),
    term=st.integers(1, 600),
)
def test_the_written_fingerprint_is_the_one_of_sorted_json(
    name: str, email: str | None, national_id: str | None, first_due_on: str | None, term: int
) -> None:
    registration = registration_json(_loan(make_registration(schedule=None)))
    registration |= {"first_due_on": first_due_on, "term_months": term}
    registration["borrower"] |= {"name": name, "email": email, "national_id": national_id}
    canonical = json.dumps(registration, sort_keys=True)
    assert (
        import_fingerprints.fingerprint(registration)
        == hashlib.sha256(canonical.encode()).hexdigest()
    )


def test_a_row_with_its_own_schedule_keeps_it_in_the_given_order_for_the_fingerprint() -> None:
    lines = [
        {"seq": 2, "due_on": "2026-03-15", "principal": "500.00", "interest": "5.00"},
        {"seq": 1, "due_on": "2026-02-15", "principal": "500.00", "interest": "10.00"},
    ]
    body = make_registration(principal="1000.00", term_months=2, schedule=lines)
    loan = _loan(body)
    assert import_fingerprints.fingerprint(registration_json(loan)) == fingerprint(
        LoanRegistered.model_validate(body)
    )
    assert [line[0] for line in schedule_of(loan)] == [1, 2]


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"principal": "-5.00"}, "principal"),
        ({"principal": "100.001"}, "principal"),
        ({"annual_rate": "0.1234567"}, "annual_rate"),
        ({"disbursed_on": "2026-02-30"}, "disbursed_on"),
        ({"first_due_on": "2026-01-01"}, "row"),
        ({"term_months": 0}, "term_months"),
        ({"loan_id": "L 1"}, "loan_id"),
        ({"unexpected": 1}, "unexpected"),
        ({"borrower": {"borrower_id": "B-1"}}, "borrower.name"),
    ],
)
def test_a_bad_row_is_refused_naming_the_field(override: dict[str, Any], field: str) -> None:
    assert field in _fields(check_loan(make_registration() | override, row=7))


def test_a_row_that_is_not_an_object_is_refused() -> None:
    errors = check_loan([1, 2], row=3)
    assert isinstance(errors, list)
    assert errors[0].row == 3


def test_the_same_values_in_another_spelling_take_the_model_path_with_the_same_result() -> None:
    plain = _loan(make_registration())
    spelled = _loan(make_registration(principal=12000, term_months="12", annual_rate=0.12))
    assert registration_json(plain) == registration_json(spelled)


_money = st.one_of(
    st.decimals(min_value=-10, max_value=10**6, places=2).map(str),
    st.sampled_from(["0", "1.005", "1e3", " 5.00", "12000.00", "abc", "0.00"]),
    st.integers(-5, 10**6),
)
_date = st.one_of(
    st.dates(date(2020, 1, 1), date(2030, 1, 1)).map(date.isoformat),
    st.sampled_from(["2026-02-30", "20260115", "2026-1-5", "2026-01-15\n"]),
)


@settings(max_examples=300, deadline=None)
@given(
    principal=_money,
    rate=st.sampled_from(["0.12", "0.1234567", "10", "10.5", "0", "-0.1", "1e-2", 0.12]),
    term=st.one_of(st.integers(-1, 700), st.sampled_from(["12", "012", "1.0", True])),
    disbursed_on=_date,
    first_due_on=st.one_of(st.none(), _date),
    phone=st.sampled_from(["+8613800000000", "13800000000", "+8613800000000\n"]),
    email=st.sampled_from([None, "a@b.co", "a b@c.d", "x@y", "é@example.com"]),
    zone=st.sampled_from(["Asia/Shanghai", "UTC", "Mars/Base", "asia/shanghai"]),
    loan_id=st.sampled_from(["L-1", "L 1", "", "L-1\n", "Ł1", "a" * 64, "a" * 65]),
)
def test_the_fast_path_accepts_only_what_the_model_accepts_with_the_same_values(
    principal: Any,
    rate: Any,
    term: Any,
    disbursed_on: str,
    first_due_on: str | None,
    phone: str,
    email: str | None,
    zone: str,
    loan_id: str,
) -> None:
    body = make_registration(
        loan_id=loan_id,
        principal=principal,
        annual_rate=rate,
        term_months=term,
        disbursed_on=disbursed_on,
        first_due_on=first_due_on,
    )
    body["borrower"] |= {"phone": phone, "email": email, "time_zone": zone}
    try:
        model = LoanRegistered.model_validate(body)
    except ValueError:
        model = None
    checked = check_loan(body, row=1)
    if model is None:
        assert isinstance(checked, list)
        assert checked
    else:
        assert isinstance(checked, LoanIn)
        assert registration_json(checked) == canonical_json(model)


@settings(max_examples=200, deadline=None)
@given(
    principal=st.decimals(min_value=Decimal("100"), max_value=Decimal("500000"), places=2),
    rate=st.decimals(min_value=0, max_value=Decimal("0.36"), places=4),
    term=st.integers(1, 60),
    method=st.sampled_from(["annuity", "equal_principal", "interest_only"]),
    first_due_on=st.dates(date(2024, 1, 1), date(2027, 12, 31)),
)
def test_the_cached_schedule_is_the_contract_schedule(
    principal: Decimal, rate: Decimal, term: int, method: str, first_due_on: date
) -> None:
    body = make_registration(
        principal=str(principal),
        annual_rate=str(rate),
        term_months=term,
        repayment_method=method,
        disbursed_on="2023-12-31",
        first_due_on=first_due_on.isoformat(),
    )
    loan = _loan(body)
    model = LoanRegistered.model_validate(body)
    expected = build_schedule(
        principal=model.principal,
        annual_rate=model.annual_rate,
        term_months=term,
        method=model.repayment_method,
        first_due_on=first_due_on,
    )
    assert schedule_of(loan) == [
        (i.seq, i.due_on, i.principal, i.interest, i.fees) for i in expected
    ]


@settings(max_examples=100, deadline=None)
@given(
    principal=st.decimals(min_value=Decimal("100"), max_value=Decimal("500000"), places=2),
    rate=st.decimals(min_value=0, max_value=Decimal("0.36"), places=4),
    term=st.integers(1, 120),  # past 60 months the templates are not cached
    method=st.sampled_from(["annuity", "equal_principal", "interest_only"]),
    first_due_on=st.dates(date(2024, 1, 1), date(2027, 12, 31)),
)
def test_the_contract_schedule_is_written_as_copy_lines_and_event_json(
    principal: Decimal, rate: Decimal, term: int, method: str, first_due_on: date
) -> None:
    body = make_registration(
        loan_id="L-9",
        principal=str(principal),
        annual_rate=str(rate),
        term_months=term,
        repayment_method=method,
        disbursed_on="2023-12-31",
        first_due_on=first_due_on.isoformat(),
    )
    loan = _loan(body)
    lines: list[str] = []
    objects = orjson.loads(orjson.dumps(contract_schedule(loan, lines)))
    expected = [(i.seq, i.due_on, i.principal, i.interest, i.fees) for i in resolve_schedule(body)]
    copied = [line.split("\t") for line in "".join(lines).splitlines()]
    assert [
        (int(seq), date.fromisoformat(day), Decimal(p), Decimal(i), Decimal(f))
        for _, seq, day, p, i, f, *paid in copied
    ] == expected
    assert {(c[0], *c[6:]) for c in copied} == {("L-9", "0.00", "0.00", "0.00")}
    assert [
        (o["seq"], date.fromisoformat(o["due_on"]), *map(Decimal, (o["principal"], o["interest"])))
        for o in objects
    ] == [line[:4] for line in expected]
    assert {o["fees"] for o in objects} == {"0.00"}


def resolve_schedule(body: dict[str, Any]) -> list[Instalment]:
    model = LoanRegistered.model_validate(body)
    return build_schedule(
        principal=model.principal,
        annual_rate=model.annual_rate,
        term_months=model.term_months,
        method=model.repayment_method,
        first_due_on=model.first_due_on or model.disbursed_on,
    )


def test_the_outbox_body_is_the_event_registration_would_enqueue() -> None:
    body = make_registration()
    loan = _loan(body)
    _, raw = EventBodies("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").body(
        loan, registration_json(loan), status="active", jurisdiction="cn"
    )
    event = CloudEvent.model_validate_json(raw)
    assert event.type == "postloan.monitoring.loan.registered.v1"
    assert event.subject == "L-0001"
    assert event.payload() == resolve(LoanRegistered.model_validate(body)).accepted


def test_event_ids_are_distinct_uuids() -> None:
    loan = _loan(make_registration())
    events = EventBodies(None)
    ids = {
        events.body(loan, registration_json(loan), status="active", jurisdiction="cn")[0]
        for _ in range(1000)
    }
    assert len(ids) == 1000
    assert all(orjson.loads(f'"{i}"') for i in ids)


def test_a_payment_row_has_the_fingerprint_of_the_api_body() -> None:
    body = {
        "payment_id": "P-1",
        "loan_id": "L-0001",
        "amount": "1066.19",
        "currency": "CNY",
        "paid_at": "2026-02-14T10:00:00+08:00",
        "channel": "bank_transfer",
    }
    payment = check_payment(body, file="payments", row=2)
    assert not isinstance(payment, list)
    assert import_fingerprints.payment_fingerprint(payment) == payment_fingerprint(
        PaymentReceived.model_validate(body)
    )


def test_a_nested_payment_takes_the_loan_id_and_refuses_another() -> None:
    ok = check_payment(
        {"payment_id": "P-1", "amount": "1.00", "paid_at": "2026-02-14T10:00:00Z", "channel": "x"},
        file="loans",
        row=1,
        loan_id="L-1",
    )
    assert not isinstance(ok, list)
    assert ok.loan_id == "L-1"
    assert ok.currency == ""
    wrong = check_payment({"loan_id": "L-2"}, file="loans", row=1, loan_id="L-1")
    assert isinstance(wrong, list)
    assert wrong[0].field == "loan_id"


def test_payments_are_allocated_by_the_ledger_waterfall() -> None:
    loan = _loan(make_registration())
    paid = check_payment(
        {
            "payment_id": "P-1",
            "amount": "1066.19",
            "paid_at": datetime(2026, 2, 14, 2, tzinfo=UTC).isoformat(),
            "channel": "x",
        },
        file="loans",
        row=1,
        loan_id=loan.loan_id,
    )
    assert not isinstance(paid, list)
    loan.payments.append(paid)
    history = import_history.allocate(loan, schedule_of(loan))
    assert history.paid[1].interest == Decimal("120.00")
    assert history.paid[1].principal == Decimal("946.19")
    assert history.allocations[0].unapplied == Decimal("0.00")
    assert not history.settled


def test_a_csv_row_is_the_nested_body_and_errors_name_csv_columns() -> None:
    row = {
        "loan_id": "L-1",
        "borrower_id": "B-1",
        "borrower_name": "张三",
        "borrower_email": "",
        "principal": "100.00",
        "schedule": "",
    }
    assert loan_body_from_csv(row) == {
        "loan_id": "L-1",
        "principal": "100.00",
        "borrower": {"borrower_id": "B-1", "name": "张三"},
    }
    assert csv_column("borrower.phone") == "borrower_phone"
    assert csv_column("borrower.borrower_id") == "borrower_id"
    assert csv_column("schedule.0.seq") == "schedule"


def test_checks_across_rows_find_unknown_products_and_late_dates() -> None:
    checks = RowChecks({"default": Product("CNY", "cn")}, date(2026, 1, 31))
    assert checks.loan(_loan(make_registration())) == []
    again = _loan(make_registration() | {"product": "gold", "disbursed_on": "2026-02-01"})
    again.row = 2
    fields = {e.field: e.reason for e in checks.loan(again)}
    assert "loan_id" not in fields  # repeated ids are the database's to find
    assert fields["product"] == "unknown product"
    assert "business date" in fields["disbursed_on"]


def test_threads_switch_faster_while_imports_run_and_as_before_once_the_last_ends() -> None:
    before = sys.getswitchinterval()
    switching = bulk_import._SwitchInterval(before / 10)
    with switching.faster():
        with switching.faster():
            assert sys.getswitchinterval() == pytest.approx(before / 10)
        assert sys.getswitchinterval() == pytest.approx(before / 10)
    assert sys.getswitchinterval() == before
