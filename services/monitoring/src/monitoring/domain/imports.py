"""Bulk import of an existing portfolio: the file formats, the checks of each row, the records.

Formats (``docs/import.md`` has examples):

- **NDJSON** (``.ndjson``/``.jsonl``): one loan per line, exactly the body of
  ``POST /api/v1/loans`` (BRIEF section 5, with an optional ``schedule``), plus an optional
  ``"payments": [...]`` of its payment history, each the body of ``POST /api/v1/payments``
  without ``loan_id`` (or with the same one). Blank lines are skipped; the row is the line.
- **CSV** (``.csv``, UTF-8, header row): a loans file whose columns are the registration's
  fields with the borrower's flattened to ``borrower_<field>`` (:data:`LOAN_COLUMNS`); an empty
  cell is an omitted field, and ``schedule`` (optional) holds the schedule as a JSON array.
  An optional payments file has the columns of :data:`PAYMENT_COLUMNS`. The row is the
  record's number, the header being row 1.

A row is checked exactly as the API checks a body (pydantic models of ``shared.events``), plus
what only a whole file can tell: ids repeated in it, products, the business date, payments of a
loan not in the file. The common case takes a fast path that accepts only what the model would
accept with the same values (tested property by property); anything else falls back to the
model, which decides and names the field and the reason.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from json.encoder import encode_basestring_ascii
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from pydantic import ValidationError

from monitoring.domain.payoff import DEFAULT_WATERFALL, NOTHING, Due, Part, Parts
from monitoring.domain.schedule import add_months, build_schedule, due_dates
from monitoring.domain.waterfall import Allocation, Payment, replay
from shared.events import LoanRegistered, PaymentReceived
from shared.types import RepaymentMethod

BORROWER_FIELDS = ("borrower_id", "name", "phone", "email", "national_id", "time_zone", "locale")
LOAN_FIELDS = (
    "loan_id",
    "product",
    "principal",
    "currency",
    "annual_rate",
    "term_months",
    "repayment_method",
    "disbursed_on",
    "first_due_on",
    "schedule",
)
#: CSV loans file columns: the registration's, the borrower's prefixed with ``borrower_``.
LOAN_COLUMNS = (
    "loan_id",
    "product",
    *(f"borrower_{f}" if f != "borrower_id" else f for f in BORROWER_FIELDS),
    *LOAN_FIELDS[2:],
)
REQUIRED_LOAN_COLUMNS = frozenset(
    {"loan_id", "borrower_id", "borrower_name", "borrower_phone", "borrower_time_zone"}
    | {"principal", "annual_rate", "term_months", "repayment_method", "disbursed_on"}
)
#: CSV payments file columns (``currency`` may be left out: the loan's currency).
PAYMENT_COLUMNS = ("payment_id", "loan_id", "amount", "currency", "paid_at", "channel")
REQUIRED_PAYMENT_COLUMNS = frozenset(PAYMENT_COLUMNS) - {"currency"}

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
_METHODS = {m.value: m for m in RepaymentMethod}
_LOCALES = frozenset({"zh-CN", "en", "en-US"})
_LOAN_KEYS = frozenset((*LOAN_FIELDS, "borrower", "payments"))
_BORROWER_KEYS = frozenset(BORROWER_FIELDS)
_INSTALMENT_KEYS = frozenset({"seq", "due_on", "principal", "interest", "fees"})
# The fast path's patterns are subsets of the models' (ASCII only, fully matched).
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}")
_MONEY = re.compile(r"[0-9]{1,16}(?:\.[0-9]{1,2})?")
_RATE = re.compile(r"[0-9](?:\.[0-9]{1,6})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INT = re.compile(r"[1-9][0-9]{0,2}")
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z0-9\-]+")
_CURRENCY = re.compile(r"[A-Z]{3}")


#: An instalment: seq, due date, principal, interest, fees.
ScheduleLine = tuple[int, date, Decimal, Decimal, Decimal]
#: A borrower's values in the order of :data:`BORROWER_FIELDS`.
Borrower = tuple[str, str, str, str | None, str | None, str, str]


@dataclass(frozen=True, slots=True)
class RowError:
    """Why a row of a file cannot be imported."""

    file: str  # "loans" or "payments"
    row: int
    field: str
    reason: str


@dataclass(slots=True)
class PaymentIn:
    """A checked payment of the history."""

    row: int
    file: str
    payment_id: str
    loan_id: str
    amount: Decimal
    currency: str
    paid_at: datetime
    channel: str


@dataclass(slots=True)
class LoanIn:
    """A checked registration (the values the model would hold) and its payment history."""

    row: int
    loan_id: str
    product: str
    borrower: Borrower
    principal: Decimal
    currency: str
    annual_rate: Decimal
    term_months: int
    method: RepaymentMethod
    disbursed_on: date
    first_due_on: date | None
    schedule: list[ScheduleLine] | None  # as given (the fingerprint keeps its order)
    payments: list[PaymentIn] = field(default_factory=list)

    @property
    def due_from(self) -> date:
        return self.first_due_on or _month_after(self.disbursed_on)


@lru_cache(maxsize=4096)
def _month_after(day: date) -> date:
    return add_months(day, 1)  # several times a loan: calendar.monthrange is not free


# --- CSV rows to bodies ------------------------------------------------------------------


def loan_body_from_csv(row: Mapping[str, str]) -> dict[str, Any]:
    """A CSV loans row as the registration body it stands for (empty cells left out)."""
    body: dict[str, Any] = {}
    borrower: dict[str, Any] = {}
    for column, value in row.items():
        if value == "":
            continue
        if column == "borrower_id":
            borrower["borrower_id"] = value
        elif column.startswith("borrower_"):
            borrower[column.removeprefix("borrower_")] = value
        elif column == "schedule":
            body["schedule"] = _json_cell(value)
        else:
            body[column] = value
    body["borrower"] = borrower
    return body


def payment_body_from_csv(row: Mapping[str, str]) -> dict[str, Any]:
    return {column: value for column, value in row.items() if value != ""}


def csv_column(path: str) -> str:
    """The CSV column of a field path of the registration body."""
    head, _, rest = path.partition(".")
    if head == "borrower" and rest:
        name = rest.partition(".")[0]
        return name if name == "borrower_id" else f"borrower_{name}"
    return head


def _json_cell(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value  # the model refuses it as "not a list"


# --- loans ---------------------------------------------------------------------------------


def check_loan(body: Any, *, row: int) -> LoanIn | list[RowError]:
    """The checked loan, or why the row is refused (as ``POST /api/v1/loans`` would)."""
    try:
        return _fast_loan(body, row)
    except (_Slow, KeyError, TypeError, ValueError, InvalidOperation):
        pass
    try:
        registration = LoanRegistered.model_validate(_without_payments(body))
    except ValidationError as exc:
        return model_errors(exc, file="loans", row=row)
    return _from_model(registration, row)


def _without_payments(body: Any) -> Any:
    if isinstance(body, dict) and "payments" in body:
        return {k: v for k, v in body.items() if k != "payments"}
    return body


def model_errors(exc: ValidationError, *, file: str, row: int) -> list[RowError]:
    return [
        RowError(file, row, ".".join(str(p) for p in e["loc"]) or "row", e["msg"])
        for e in exc.errors()
    ]


class _Slow(Exception):
    """The value is not in a form the fast path knows: the model decides."""


def _fast_loan(b: Any, row: int) -> LoanIn:
    if type(b) is not dict or not _LOAN_KEYS.issuperset(b):
        raise _Slow
    w = b["borrower"]
    if type(w) is not dict or not _BORROWER_KEYS.issuperset(w):
        raise _Slow
    borrower = (
        _match(_ID, w["borrower_id"]),
        _text(w["name"], 1, 200),
        _match(_PHONE, w["phone"]),
        None if w.get("email") is None else _match(_EMAIL, w["email"], 254),
        None if w.get("national_id") is None else _text(w["national_id"], 6, 32),
        _zone(w["time_zone"]),
        _locale(w.get("locale", "zh-CN")),
    )
    principal, term = _money(b["principal"]), _int(b["term_months"])
    disbursed_on = _date(b["disbursed_on"])
    first_due_on = None if b.get("first_due_on") is None else _date(b["first_due_on"])
    if principal <= 0 or (first_due_on is not None and first_due_on <= disbursed_on):
        raise _Slow
    method = _METHODS.get(b["repayment_method"])
    if method is None:
        raise _Slow
    return LoanIn(
        row,
        _match(_ID, b["loan_id"]),
        _match(_ID, b.get("product", "default")),
        borrower,
        principal,
        _match(_CURRENCY, b.get("currency", "CNY")),
        _rate(b["annual_rate"]),
        term,
        method,
        disbursed_on,
        first_due_on,
        _fast_schedule(b.get("schedule"), term, principal),
    )


def _fast_schedule(lines: Any, term: int, principal: Decimal) -> list[ScheduleLine] | None:
    if lines is None:
        return None
    if type(lines) is not list or len(lines) != term:
        raise _Slow
    out = []
    for line in lines:
        if type(line) is not dict or not _INSTALMENT_KEYS.issuperset(line):
            raise _Slow
        seq = line["seq"]
        if type(seq) is not int or not 1 <= seq <= 600:
            raise _Slow
        out.append(
            (
                seq,
                _date(line["due_on"]),
                _money(line["principal"]),
                _money(line["interest"]),
                _money(line.get("fees", "0")),
            )
        )
    if sum(i[2] for i in out) != principal:
        raise _Slow
    return out


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
    )


def _match(pattern: re.Pattern[str], value: Any, longest: int = 64) -> str:
    if type(value) is str and len(value) <= longest and pattern.fullmatch(value):
        return value
    raise _Slow


def _text(value: Any, shortest: int, longest: int) -> str:
    if type(value) is str and shortest <= len(value) <= longest:
        return value
    raise _Slow


def _zone(value: Any) -> str:
    if type(value) is str and value in _zones():
        return value
    raise _Slow


def _locale(value: Any) -> str:
    if type(value) is str and value in _LOCALES:
        return value
    raise _Slow


# Amounts, rates and dates repeat across a portfolio: their values are cached by text (only
# text: 1 and True would be one key), a refused one is not (an exception is not cached).
_VALUES_CACHED = 4_096


def _money(value: Any) -> Decimal:
    if type(value) is str:
        return _money_of(value)
    raise _Slow


@lru_cache(maxsize=_VALUES_CACHED)
def _money_of(text: str) -> Decimal:
    if _MONEY.fullmatch(text):
        return Decimal(text).quantize(CENT)
    raise _Slow


def _rate(value: Any) -> Decimal:
    if type(value) is str:
        return _rate_of(value)
    raise _Slow


@lru_cache(maxsize=_VALUES_CACHED)
def _rate_of(text: str) -> Decimal:
    if _RATE.fullmatch(text) or text == "10":
        return Decimal(text)
    raise _Slow


def _int(value: Any) -> int:
    if type(value) is int and 1 <= value <= 600:
        return value
    if type(value) is str and _INT.fullmatch(value) and int(value) <= 600:
        return int(value)
    raise _Slow


def _date(value: Any) -> date:
    if type(value) is str:
        return _date_of(value)
    raise _Slow


@lru_cache(maxsize=_VALUES_CACHED)
def _date_of(text: str) -> date:
    if _DATE.fullmatch(text):
        return date.fromisoformat(text)
    raise _Slow


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


# --- what only the file or the ledger can tell ----------------------------------------------


@dataclass(frozen=True)
class Product:
    currency: str
    jurisdiction: str
    waterfall: tuple[Part, ...] = DEFAULT_WATERFALL


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


# --- payments ------------------------------------------------------------------------------


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


def value_date(payment: PaymentIn, loan: LoanIn) -> date:
    """The day a payment was made, in the borrower's time zone (as the ledger books it)."""
    return payment.paid_at.astimezone(_zone_info(loan.borrower[5])).date()


@lru_cache(maxsize=1024)
def _zone_info(name: str) -> ZoneInfo:
    return ZoneInfo(name)


# --- what to store --------------------------------------------------------------------------


def schedule_of(loan: LoanIn) -> list[ScheduleLine]:
    """The loan's schedule: its own, or the contract's (amounts cached)."""
    if loan.schedule is not None:
        return sorted(loan.schedule)
    amounts = contract_cents(loan.principal, loan.annual_rate, loan.term_months, loan.method)
    cents = [Decimal(a) for a in amounts.split(" ")]
    days = due_dates(loan.due_from, loan.term_months)
    return [
        (seq, day, cents[2 * seq - 2], cents[2 * seq - 1], ZERO)
        for seq, day in enumerate(days, start=1)
    ]


_ANCHOR = date(2000, 1, 31)  # amounts do not depend on dates


# Portfolios repeat a few contracts (principal, rate, term, method) many times. The cache is
# bounded so that a portfolio of all-different contracts cannot swell the service, and holds
# text rather than Decimals and tuples (a tenth of the memory): ~650 B a contract of 12
# instalments with its key, ~21 MB at most.
CONTRACTS_CACHED = 32_768


@lru_cache(maxsize=CONTRACTS_CACHED)
def contract_cents(principal: Decimal, rate: Decimal, term: int, method: RepaymentMethod) -> str:
    """Principal and interest of each instalment of :func:`build_schedule` as COPY and JSON
    want them, space-separated: ``"p1 i1 p2 i2 …"`` (cached)."""
    lines = build_schedule(
        principal=principal,
        annual_rate=rate,
        term_months=term,
        method=method,
        first_due_on=_ANCHOR,
    )
    return " ".join(f"{i.principal!s} {i.interest!s}" for i in lines)


def registration_json(loan: LoanIn) -> dict[str, Any]:
    """``LoanRegistered.model_dump(mode="json")`` of the loan, without building the model."""
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
    return {
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
    a registration's new key must be added here (the fingerprint tests would fail)."""
    b, s, n = r["borrower"], encode_basestring_ascii, _nullable
    return (
        f'{{"annual_rate": {s(r["annual_rate"])}, "borrower": {{'
        f'"borrower_id": {s(b["borrower_id"])}, "email": {n(b["email"])}, '
        f'"locale": {s(b["locale"])}, "name": {s(b["name"])}, '
        f'"national_id": {n(b["national_id"])}, "phone": {s(b["phone"])}, '
        f'"time_zone": {s(b["time_zone"])}}}, "currency": {s(r["currency"])}, '
        f'"disbursed_on": {s(r["disbursed_on"])}, "first_due_on": {n(r["first_due_on"])}, '
        f'"loan_id": {s(r["loan_id"])}, "principal": {s(r["principal"])}, '
        f'"product": {s(r["product"])}, "repayment_method": {s(r["repayment_method"])}, '
        f'"schedule": null, "term_months": {r["term_months"]:d}}}'
    )


def _nullable(value: str | None) -> str:
    return "null" if value is None else encode_basestring_ascii(value)


def _cents(amount: Decimal) -> str:
    return format(amount.quantize(CENT), "f")


@dataclass(frozen=True, slots=True)
class History:
    """A loan's payment history allocated: per payment, and the paid amounts per instalment."""

    allocations: list[Allocation]
    paid: dict[int, Parts]
    settled: bool


def allocate(
    loan: LoanIn,
    schedule: Sequence[ScheduleLine],
    order: Sequence[Part] = DEFAULT_WATERFALL,
) -> History:
    """The history applied in order by the ledger's waterfall (no penalty before import)."""
    dues, starts_on = [], loan.disbursed_on
    for seq, due_on, principal, interest, fees in schedule:
        dues.append(Due(seq, starts_on, due_on, Parts(ZERO, fees, interest, principal)))
        starts_on = due_on
    payments = [
        Payment(p.payment_id, p.amount, p.paid_at, value_date(p, loan)) for p in loan.payments
    ]
    allocations = replay(dues, payments, order=order)
    paid: dict[int, Parts] = {}
    for allocation in allocations:
        for line in allocation.lines:
            paid[line.seq] = paid.get(line.seq, NOTHING) + line.paid
    return History(allocations, paid, any(a.settles for a in allocations))


@dataclass(frozen=True, slots=True)
class AppliedPayment:
    """A payment of an imported history as the ledger applied it, and the balance it left."""

    payment: PaymentIn
    allocation: Allocation
    booked_on: date
    outstanding_after: Decimal


def applied_payments(
    loan: LoanIn, schedule: Sequence[ScheduleLine], history: History, booked_on: Sequence[date]
) -> list[AppliedPayment]:
    """The history's payments in the order they were applied, each with the loan's balance
    after it as the ledger counts one (``payoff.outstanding``: all principal, and the interest
    and fees fallen due by the payment's day; nothing once settled)."""
    by_id = {p.payment_id: (p, day) for p, day in zip(loan.payments, booked_on, strict=True)}
    left = {seq: [principal, interest + fees] for seq, _, principal, interest, fees in schedule}
    due_on = {seq: day for seq, day, *_ in schedule}
    applied = []
    for allocation in history.allocations:
        payment, day = by_id[allocation.payment_id]
        for line in allocation.lines:
            left[line.seq][0] -= line.paid.principal
            left[line.seq][1] -= line.paid.interest + line.paid.fees
        balance = ZERO
        if not allocation.settles:
            for seq, (principal, rest) in left.items():
                balance += principal + (rest if due_on[seq] <= day else ZERO)
        applied.append(AppliedPayment(payment, allocation, day, balance))
    return applied
