"""Bulk import of an existing portfolio: the file formats and the records of a checked row.

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

A borrower's ``address`` and a loan's ``contacts`` are refused (:data:`UNSUPPORTED`).

Rows are checked by :mod:`monitoring.domain.import_checks`; what is stored of them is written
by :mod:`~monitoring.domain.import_schedules`, :mod:`~monitoring.domain.import_fingerprints`
and :mod:`~monitoring.domain.import_history`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from monitoring.domain.json_object import JsonObject
from monitoring.domain.payoff import DEFAULT_WATERFALL, Part
from monitoring.domain.schedule import add_months
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
    "time_barred_on",
)
#: What the import refuses rather than drop: a borrower's postal address and contacts are
#: kept by collections and notify from ``loan.registered`` and ``contact.updated``, which an
#: import does not carry for them; register such loans through the API or send the contacts
#: as ``contact.updated`` after the import.
UNSUPPORTED = "not supported by the import: send it with postloan.ingest.contact.updated"
UNSUPPORTED_COLUMNS = frozenset({"contacts", "borrower_address"})
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
    time_barred_on: date | None = None
    payments: list[PaymentIn] = field(default_factory=list)

    @property
    def due_from(self) -> date:
        return self.first_due_on or _month_after(self.disbursed_on)


@lru_cache(maxsize=4096)
def _month_after(day: date) -> date:
    return add_months(day, 1)  # several times a loan: calendar.monthrange is not free


@dataclass(frozen=True)
class Product:
    currency: str
    jurisdiction: str
    waterfall: tuple[Part, ...] = DEFAULT_WATERFALL


# --- CSV rows to bodies ------------------------------------------------------------------


def loan_body_from_csv(row: Mapping[str, str]) -> JsonObject:
    """A CSV loans row as the registration body it stands for (empty cells left out)."""
    body: JsonObject = {}
    borrower: JsonObject = {}
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


def payment_body_from_csv(row: Mapping[str, str]) -> JsonObject:
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


def value_date(payment: PaymentIn, loan: LoanIn) -> date:
    """The day a payment was made, in the borrower's time zone (as the ledger books it)."""
    return payment.paid_at.astimezone(_zone_info(loan.borrower[5])).date()


@lru_cache(maxsize=1024)
def _zone_info(name: str) -> ZoneInfo:
    return ZoneInfo(name)
