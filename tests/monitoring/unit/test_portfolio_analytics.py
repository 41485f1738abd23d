from datetime import date
from decimal import Decimal

import pytest

from monitoring.domain.analytics import (
    EXIT,
    Transition,
    cures,
    month_ends,
    months_between,
    parse_month,
    rate,
    roll_matrix,
    total_cure,
    vintage_curve,
)

SCALE = ("C", "M1", "M2")


def test_a_month_end_is_the_last_snapshot_date_of_the_month() -> None:
    days = [date(2026, 1, 31), date(2026, 2, 15), date(2026, 2, 27), date(2026, 1, 3)]
    assert month_ends(days) == {
        date(2026, 1, 1): date(2026, 1, 31),
        date(2026, 2, 1): date(2026, 2, 27),
    }


def test_months_parse_and_count() -> None:
    assert parse_month("2026-02") == date(2026, 2, 1)
    assert months_between(date(2025, 11, 1), date(2026, 2, 1)) == 3
    for bad in ("2026-2", "202602", "2026-13", "abcd-ef"):
        with pytest.raises(ValueError, match="month"):
            parse_month(bad)


def test_rates_round_half_up_to_four_places_and_are_none_over_nothing() -> None:
    assert rate(1, 3) == Decimal("0.3333")
    assert rate(Decimal("1000.00"), Decimal("6400.00")) == Decimal("0.1563")  # 0.15625
    assert rate(0, 0) is None


def test_a_roll_matrix_is_full_with_an_exit_column_and_rows_that_sum_to_one() -> None:
    moves = [
        Transition("C", "C", 3, Decimal("3000.00")),
        Transition("C", "M1", 1, Decimal("500.00")),
        Transition("C", EXIT, 1, Decimal("500.00")),
        Transition("M1", "M2", 2, Decimal("800.00")),
    ]
    rows = roll_matrix(moves, SCALE)

    assert [r.from_bucket for r in rows] == ["C", "M1", "M2"]
    current = rows[0]
    assert (current.count, current.balance) == (5, Decimal("4000.00"))
    assert [c.to_bucket for c in current.to] == ["C", "M1", "M2", EXIT]
    assert [c.count_rate for c in current.to] == [
        Decimal("0.6000"),
        Decimal("0.2000"),
        Decimal("0"),
        Decimal("0.2000"),
    ]
    assert [c.balance_rate for c in current.to] == [
        Decimal("0.7500"),
        Decimal("0.1250"),
        Decimal("0"),
        Decimal("0.1250"),
    ]
    assert rows[2].count == 0
    assert {c.count_rate for c in rows[2].to} == {None}


def test_a_bucket_of_an_older_configuration_still_gets_its_row() -> None:
    rows = roll_matrix([Transition("OLD", "C", 1, Decimal("1.00"))], SCALE)
    assert [r.from_bucket for r in rows] == ["C", "M1", "M2", "OLD"]


def test_the_cure_rate_is_the_share_of_a_delinquent_bucket_back_in_c() -> None:
    moves = [
        Transition("C", "M1", 4, Decimal("400.00")),
        Transition("M1", "C", 1, Decimal("100.00")),
        Transition("M1", "M2", 2, Decimal("300.00")),
        Transition("M1", EXIT, 1, Decimal("100.00")),  # settled: not a cure
        Transition("M2", "C", 1, Decimal("50.00")),
    ]
    by_bucket = cures(moves, SCALE)

    assert [(c.from_bucket, c.count, c.cured, c.exited) for c in by_bucket] == [
        ("M1", 4, 1, 1),
        ("M2", 1, 1, 0),
    ]
    assert by_bucket[0].rate == Decimal("0.2500")
    assert by_bucket[0].balance_rate == Decimal("0.2000")
    total = total_cure(by_bucket)
    assert (total.count, total.cured, total.rate) == (5, 2, Decimal("0.4000"))


def test_a_vintage_curve_accumulates_loans_first_seen_bad() -> None:
    ends = {
        date(2026, 1, 1): date(2026, 1, 31),
        date(2026, 2, 1): date(2026, 2, 27),
        date(2026, 3, 1): date(2026, 3, 31),
    }
    curve = vintage_curve(
        vintage=date(2026, 2, 1),
        loans=4,
        principal=Decimal("4000.00"),
        ends=ends,
        first_bad={
            date(2026, 2, 1): (1, Decimal("500.00")),
            date(2026, 3, 1): (2, Decimal("2000.00")),
        },
    )

    assert [(p.months_on_book, p.as_of, p.bad) for p in curve.points] == [
        (0, date(2026, 2, 27), 1),
        (1, date(2026, 3, 31), 3),
    ]
    assert [p.rate for p in curve.points] == [Decimal("0.2500"), Decimal("0.7500")]
    assert [p.principal_rate for p in curve.points] == [Decimal("0.1250"), Decimal("0.6250")]
