"""Promises in instalments: their checks and which instalment was missed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from collections_service.domain.promises import Instalment, check_instalments, missed

PLAN = [
    Instalment(Decimal("100.00"), date(2026, 3, 1)),
    Instalment(Decimal("100.00"), date(2026, 3, 15)),
    Instalment(Decimal("50.00"), date(2026, 4, 1)),
]


def test_instalments_that_add_up_to_the_promise_hold() -> None:
    assert check_instalments(PLAN, Decimal("250.00"), date(2026, 4, 1)) == []


def test_each_mistake_of_the_instalments_is_named() -> None:
    unordered = [PLAN[1], PLAN[0]]

    errors = check_instalments(unordered, Decimal("999.00"), date(2026, 5, 1))

    assert [field for field, _ in errors] == ["instalments", "due_on", "amount"]


def test_nothing_is_missed_before_the_first_due_date_closes() -> None:
    assert missed(PLAN, Decimal("0.00"), closed_before=date(2026, 3, 1)) is None


def test_an_unpaid_first_instalment_is_missed_once_its_day_has_closed() -> None:
    assert missed(PLAN, Decimal("99.99"), closed_before=date(2026, 3, 2)) == date(2026, 3, 1)


def test_payments_cover_the_instalments_in_order() -> None:
    assert missed(PLAN, Decimal("150.00"), closed_before=date(2026, 3, 16)) == date(2026, 3, 15)
    assert missed(PLAN, Decimal("200.00"), closed_before=date(2026, 3, 16)) is None
    assert missed(PLAN, Decimal("200.00"), closed_before=date(2026, 4, 2)) == date(2026, 4, 1)
    assert missed(PLAN, Decimal("250.00"), closed_before=date(2026, 4, 2)) is None
