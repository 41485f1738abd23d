"""The API's JSON and fingerprints of imported loans and payments, written without the models.

An imported row must fingerprint as its ``POST`` body would, so that re-posting it through the
API is the usual idempotent ``200``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from json.encoder import encode_basestring_ascii
from typing import Any

from monitoring.domain.imports import BORROWER_FIELDS, CENT, LoanIn, PaymentIn
from monitoring.domain.json_object import JsonObject


def registration_json(loan: LoanIn) -> JsonObject:
    """:func:`monitoring.domain.loans.canonical_json` of the loan, without building the model
    (``time_barred_on`` only when set; the import refuses the other later fields)."""
    schedule = None
    if loan.schedule is not None:
        schedule = [
            {
                "seq": s,
                "due_on": d.isoformat(),
                "principal": _cents(p),
                "interest": _cents(i),
                "fees": _cents(f),
            }
            for s, d, p, i, f in loan.schedule
        ]
    body: JsonObject = {
        "loan_id": loan.loan_id,
        "product": loan.product,
        "borrower": dict(zip(BORROWER_FIELDS, loan.borrower, strict=True)),
        "principal": _cents(loan.principal),
        "currency": loan.currency,
        "annual_rate": format(loan.annual_rate.normalize(), "f"),
        "term_months": loan.term_months,
        "repayment_method": loan.method.value,
        "disbursed_on": loan.disbursed_on.isoformat(),
        "first_due_on": None if loan.first_due_on is None else loan.first_due_on.isoformat(),
        "schedule": schedule,
    }
    if loan.time_barred_on is not None:
        body["time_barred_on"] = loan.time_barred_on.isoformat()
    return body


def fingerprint(registration: Mapping[str, Any]) -> str:
    """:func:`monitoring.domain.loans.fingerprint` of a :func:`registration_json`."""
    if registration["schedule"] is None:
        canonical = _canonical(registration)
    else:
        canonical = json.dumps(registration, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(r: Mapping[str, Any]) -> str:
    """``json.dumps(r, sort_keys=True)`` of a registration without a schedule, written out:
    the encoder's generic walk was a tenth of the import's Python. Its keys in sorted order;
    a registration's new key must be added here (the fingerprint tests would fail). A later
    field is written only when set (``time_barred_on`` sorts last)."""
    b, s, n = r["borrower"], encode_basestring_ascii, _nullable
    barred = r.get("time_barred_on")
    tail = "}" if barred is None else f', "time_barred_on": {s(barred)}}}'
    return (
        f'{{"annual_rate": {s(r["annual_rate"])}, "borrower": {{'
        f'"borrower_id": {s(b["borrower_id"])}, "email": {n(b["email"])}, '
        f'"locale": {s(b["locale"])}, "name": {s(b["name"])}, '
        f'"national_id": {n(b["national_id"])}, "phone": {s(b["phone"])}, '
        f'"time_zone": {s(b["time_zone"])}}}, "currency": {s(r["currency"])}, '
        f'"disbursed_on": {s(r["disbursed_on"])}, "first_due_on": {n(r["first_due_on"])}, '
        f'"loan_id": {s(r["loan_id"])}, "principal": {s(r["principal"])}, '
        f'"product": {s(r["product"])}, "repayment_method": {s(r["repayment_method"])}, '
        f'"schedule": null, "term_months": {r["term_months"]:d}{tail}'
    )


def _nullable(value: str | None) -> str:
    return "null" if value is None else encode_basestring_ascii(value)


def _cents(amount: Decimal) -> str:
    return format(amount.quantize(CENT), "f")


def payment_fingerprint(p: PaymentIn) -> str:
    """The same as the payments use case's fingerprint of the ``POST /api/v1/payments`` body."""
    body = {
        "payment_id": p.payment_id,
        "loan_id": p.loan_id,
        "amount": _cents(p.amount),
        "currency": p.currency,
        "paid_at": p.paid_at.timestamp(),
        "channel": p.channel,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
