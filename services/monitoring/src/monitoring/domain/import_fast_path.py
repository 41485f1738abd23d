"""The fast path of a loan row's checks: the common forms of a registration, read directly.

It accepts only what the model would accept with the same values (tested property by
property); anything else raises :class:`Slow` and the model decides, naming the field and the
reason (:func:`monitoring.domain.import_checks.check_loan`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any, TypeVar
from zoneinfo import available_timezones

from monitoring.domain.imports import (
    BORROWER_FIELDS,
    CENT,
    LOAN_FIELDS,
    LoanIn,
    ScheduleLine,
)
from shared.types import RepaymentMethod

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
T = TypeVar("T")


class Slow(Exception):
    """The value is not in a form the fast path knows: the model decides."""


def fast_loan(b: Any, row: int) -> LoanIn:
    """The checked loan of a body in a form the fast path knows; :class:`Slow` otherwise."""
    if type(b) is not dict or not _LOAN_KEYS.issuperset(b):
        raise Slow
    w = b["borrower"]
    if type(w) is not dict or not _BORROWER_KEYS.issuperset(w):
        raise Slow
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
        raise Slow
    method = _METHODS.get(b["repayment_method"])
    if method is None:
        raise Slow
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
        None if b.get("time_barred_on") is None else _date(b["time_barred_on"]),
    )


def _fast_schedule(lines: Any, term: int, principal: Decimal) -> list[ScheduleLine] | None:
    if lines is None:
        return None
    if type(lines) is not list or len(lines) != term:
        raise Slow
    out = []
    for line in lines:
        if type(line) is not dict or not _INSTALMENT_KEYS.issuperset(line):
            raise Slow
        seq = line["seq"]
        if type(seq) is not int or not 1 <= seq <= 600:
            raise Slow
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
        raise Slow
    return out


def _match(pattern: re.Pattern[str], value: Any, longest: int = 64) -> str:
    if type(value) is str and len(value) <= longest and pattern.fullmatch(value):
        return value
    raise Slow


def _text(value: Any, shortest: int, longest: int) -> str:
    if type(value) is str and shortest <= len(value) <= longest:
        return value
    raise Slow


def _zone(value: Any) -> str:
    if type(value) is str and value in _zones():
        return value
    raise Slow


def _locale(value: Any) -> str:
    if type(value) is str and value in _LOCALES:
        return value
    raise Slow


# Amounts, rates and dates repeat across a portfolio: their values are cached by text (only
# text: 1 and True would be one key), a refused one is not (an exception is not cached).
_VALUES_CACHED = 4_096


def _from_text(parse: Callable[[str], T]) -> Callable[[Any], T]:
    """``parse`` for a JSON string, cached (a file repeats its amounts and dates); a value of
    any other type is :class:`Slow`."""
    cached = lru_cache(maxsize=_VALUES_CACHED)(parse)

    def of(value: Any) -> T:
        if type(value) is str:
            return cached(value)
        raise Slow

    return of


@_from_text
def _money(text: str) -> Decimal:
    if _MONEY.fullmatch(text):
        return Decimal(text).quantize(CENT)
    raise Slow


@_from_text
def _rate(text: str) -> Decimal:
    if _RATE.fullmatch(text) or text == "10":
        return Decimal(text)
    raise Slow


@_from_text
def _date(text: str) -> date:
    if _DATE.fullmatch(text):
        return date.fromisoformat(text)
    raise Slow


def _int(value: Any) -> int:
    if type(value) is int and 1 <= value <= 600:
        return value
    if type(value) is str and _INT.fullmatch(value) and int(value) <= 600:
        return int(value)
    raise Slow


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())
