"""The checks of an imported row: each as the API checks its body, and those across rows.

A row is checked exactly as the API checks a body (pydantic models of ``shared.events``), plus
what only a whole file can tell: ids repeated in it, products, the business date, payments of a
loan not in the file. The common case takes a fast path
(:mod:`monitoring.domain.import_fast_path`) that accepts only what the model would accept with
the same values; anything else falls back to the model, which decides and names the field and
the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import InvalidOperation
from typing import Any

from pydantic import ValidationError

from monitoring.domain.import_fast_path import Slow, fast_loan
from monitoring.domain.imports import (
    BORROWER_FIELDS,
    UNSUPPORTED,
    LoanIn,
    PaymentIn,
    Product,
    RowError,
    value_date,
)
from shared.events import LoanRegistered, PaymentReceived


def check_loan(body: Any, *, row: int) -> LoanIn | list[RowError]:
    """The checked loan, or why the row is refused (as ``POST /api/v1/loans`` would)."""
    try:
        return fast_loan(body, row)
    except (Slow, KeyError, TypeError, ValueError, InvalidOperation):
        pass
    try:
        registration = LoanRegistered.model_validate(_without_payments(body))
    except ValidationError as exc:
        return model_errors(exc, file="loans", row=row)
    return _unsupported(registration, row) or _from_model(registration, row)


def _unsupported(r: LoanRegistered, row: int) -> list[RowError]:
    """What the import does not carry to collections and notify: refused, not dropped."""
    given = {"contacts": r.contacts, "borrower.address": r.borrower.address}
    return [RowError("loans", row, name, UNSUPPORTED) for name, v in given.items() if v is not None]


def _without_payments(body: Any) -> Any:
    if isinstance(body, dict) and "payments" in body:
        return {k: v for k, v in body.items() if k != "payments"}
    return body


def model_errors(exc: ValidationError, *, file: str, row: int) -> list[RowError]:
    return [
        RowError(file, row, ".".join(str(p) for p in e["loc"]) or "row", e["msg"])
        for e in exc.errors()
    ]


def _from_model(r: LoanRegistered, row: int) -> LoanIn:
    w = r.borrower
    schedule = None
    if r.schedule is not None:
        schedule = [(i.seq, i.due_on, i.principal, i.interest, i.fees) for i in r.schedule]
    return LoanIn(
        row,
        r.loan_id,
        r.product,
        (w.borrower_id, w.name, w.phone, w.email, w.national_id, w.time_zone, w.locale),
        r.principal,
        r.currency,
        r.annual_rate,
        r.term_months,
        r.repayment_method,
        r.disbursed_on,
        r.first_due_on,
        schedule,
        r.time_barred_on,
    )


class RowChecks:
    """Checks across rows: products, dates against the business date, the latest date.

    Ids repeated in the files are found by the database (``CopyLoader.repeats``): a map of a
    million ids would be the import's largest memory.
    """

    def __init__(self, products: Mapping[str, Product], business_date: date | None) -> None:
        self.products = products
        self.business_date = business_date
        self.latest: date | None = None

    def loan(self, loan: LoanIn) -> list[RowError]:
        errors = []
        row = loan.row
        product = self.products.get(loan.product)
        if product is None:
            errors.append(RowError("loans", row, "product", "unknown product"))
        elif product.currency != loan.currency:
            errors.append(RowError("loans", row, "currency", f"must be {product.currency}"))
        if self.business_date is not None and loan.disbursed_on > self.business_date:
            reason = f"after the business date {self.business_date}"
            errors.append(RowError("loans", row, "disbursed_on", reason))
        if loan.schedule is not None and sorted(i[0] for i in loan.schedule) != list(
            range(1, loan.term_months + 1)
        ):
            reason = "seq must number the instalments 1 to term_months"
            errors.append(RowError("loans", row, "schedule", reason))
        errors += _no_nul(loan)
        self.latest = max(self.latest or loan.disbursed_on, loan.disbursed_on)
        return errors

    def payment(self, payment: PaymentIn, loan: LoanIn) -> list[RowError]:
        errors = []
        file, row = payment.file, payment.row
        payment.currency = payment.currency or loan.currency
        if payment.currency != loan.currency:
            errors.append(RowError(file, row, "currency", f"must be {loan.currency}"))
        day = value_date(payment, loan)
        if day < loan.disbursed_on:
            reason = f"paid on {day}, before the disbursement on {loan.disbursed_on}"
            errors.append(RowError(file, row, "paid_at", reason))
        if self.business_date is not None and day > self.business_date:
            reason = f"paid on {day}, after the business date {self.business_date}"
            errors.append(RowError(file, row, "paid_at", reason))
        self.latest = max(self.latest or day, day)
        return errors


def _no_nul(loan: LoanIn) -> list[RowError]:
    """PostgreSQL text cannot hold NUL; the model lets it through."""
    if "\x00" not in "".join(v for v in loan.borrower if v is not None):
        return []  # the common case in one scan
    return [
        RowError("loans", loan.row, f"borrower.{name}", "must not contain NUL characters")
        for name, value in zip(BORROWER_FIELDS, loan.borrower, strict=True)
        if value is not None and "\x00" in value
    ]


def check_payment(
    body: Any, *, file: str, row: int, loan_id: str | None = None
) -> PaymentIn | list[RowError]:
    """A payment of the history (``loan_id`` fills in a nested one's); as the API checks it.

    Without a ``currency`` it is the loan's (filled in by :meth:`RowChecks.payment`).
    """
    given = isinstance(body, dict) and "currency" in body
    if isinstance(body, dict):
        body = {"currency": "CNY", **body}
        if loan_id is not None:
            body.setdefault("loan_id", loan_id)
            if body["loan_id"] != loan_id:
                return [RowError(file, row, "loan_id", "must be the loan's id")]
    try:
        p = PaymentReceived.model_validate(body)
    except ValidationError as exc:
        return model_errors(exc, file=file, row=row)
    currency = p.currency if given else ""
    return PaymentIn(row, file, p.payment_id, p.loan_id, p.amount, currency, p.paid_at, p.channel)
