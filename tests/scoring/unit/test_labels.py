"""The training target: its window at both edges, which loans are observed, and no leakage."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from scoring.domain.features import features_as_of
from scoring.domain.history import Allocation, Instalment, LoanHistory
from scoring.domain.labels import Sample, TargetDefinition, build_samples, month_ends

OBSERVED = date(2025, 1, 31)  # horizon: 1 February to 31 July
HORIZON_END = date(2025, 7, 31)
TARGET = TargetDefinition()


def make_loan(
    *,
    dues: tuple[date, ...],
    paid: dict[int, date] | None = None,
    disbursed_on: date = date(2024, 11, 1),
) -> LoanHistory:
    """Instalments of 1000 principal + 100 interest due on ``dues``; ``paid`` maps a seq to the
    day it was paid in full."""
    lines = tuple(
        Instalment(s, d, Decimal("1000.00"), Decimal("1100.00")) for s, d in enumerate(dues, 1)
    )
    allocations = tuple(
        Allocation(f"P{seq}", seq, day, Decimal("1000.00"), Decimal("1100.00"))
        for seq, day in sorted((paid or {}).items(), key=lambda item: item[1])
    )
    principal = Decimal(1000 * len(dues))
    return LoanHistory("L1", principal, disbursed_on, lines, allocations, (), ())


def samples(
    history: LoanHistory,
    *,
    target: TargetDefinition = TARGET,
    known_until: date = HORIZON_END,
    observed: date = OBSERVED,
) -> list[Sample]:
    return build_samples([history], [observed], target, known_until=known_until)


def label(history: LoanHistory, *, target: TargetDefinition = TARGET) -> int:
    (sample,) = samples(history, target=target)
    return sample.bad


def test_month_ends_are_the_last_days_of_the_months_in_the_range() -> None:
    assert month_ends(date(2024, 1, 15), date(2024, 4, 30)) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]
    feb_leap = [date(2024, 1, 31), date(2024, 2, 29)]
    assert month_ends(date(2024, 1, 31), date(2024, 3, 30)) == feb_leap
    assert month_ends(date(2024, 2, 1), date(2024, 2, 28)) == []


def test_a_target_needs_a_positive_threshold_and_horizon() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        TargetDefinition(dpd_threshold=0)
    with pytest.raises(ValueError, match="at least 1"):
        TargetDefinition(horizon_months=0)


# --- the window ---------------------------------------------------------------------------------


def test_reaching_the_threshold_on_the_horizons_last_day_is_bad() -> None:
    on_time = {1: date(2024, 12, 1)}
    assert label(make_loan(dues=(date(2024, 12, 1), date(2025, 6, 1)), paid=on_time)) == 1
    assert label(make_loan(dues=(date(2024, 12, 1), date(2025, 6, 2)), paid=on_time)) == 0


def test_the_window_starts_the_day_after_the_observation() -> None:
    # due 3 December: 59 days past due on 31 January, 60 on 1 February unless paid that day
    dues = (date(2024, 12, 3),)
    assert label(make_loan(dues=dues, paid={1: date(2025, 2, 2)})) == 1
    assert label(make_loan(dues=dues, paid={1: date(2025, 2, 1)})) == 0


def test_the_threshold_and_horizon_are_configurable() -> None:
    loan = make_loan(dues=(date(2025, 1, 10),), paid={1: date(2025, 2, 20)})  # worst DPD 40
    assert label(loan) == 0
    assert label(loan, target=TargetDefinition(dpd_threshold=30)) == 1
    late = make_loan(dues=(date(2024, 12, 1), date(2025, 6, 1)), paid={1: date(2024, 12, 1)})
    short = TargetDefinition(horizon_months=5)  # ends 30 June: 29 days past due at most
    assert samples(late, target=short)[0].bad == 0


def test_a_loan_is_observed_only_when_its_whole_horizon_is_known() -> None:
    loan = make_loan(dues=(date(2025, 1, 10),))
    assert samples(loan, known_until=date(2025, 7, 30)) == []
    assert len(samples(loan, known_until=date(2025, 7, 31))) == 1


# --- who is observed ----------------------------------------------------------------------------


def test_a_loan_disbursed_on_the_day_or_later_is_not_observed() -> None:
    dues = (date(2025, 3, 1),)
    assert samples(make_loan(dues=dues, disbursed_on=OBSERVED)) == []
    assert len(samples(make_loan(dues=dues, disbursed_on=date(2025, 1, 30)))) == 1


def test_a_loan_repaid_by_the_close_of_the_day_is_not_observed() -> None:
    dues = (date(2025, 1, 10),)
    assert samples(make_loan(dues=dues, paid={1: OBSERVED})) == []
    assert len(samples(make_loan(dues=dues, paid={1: date(2025, 2, 1)}))) == 1


def test_a_loan_with_its_principal_repaid_but_interest_overdue_is_still_on_book() -> None:
    loan = make_loan(dues=(date(2025, 1, 10),))
    principal_only = Allocation("P1", 1, date(2025, 1, 10), Decimal("1000.00"), Decimal("1000.00"))
    (sample,) = samples(replace(loan, allocations=(principal_only,)))
    assert sample.features["outstanding_ratio"] == 0.0
    assert sample.features["dpd_now"] == 21


def test_a_loan_already_at_the_threshold_is_left_out_as_already_bad() -> None:
    assert samples(make_loan(dues=(date(2024, 12, 2),))) == []  # 60 days past due on the day
    (sample,) = samples(make_loan(dues=(date(2024, 12, 3),)))  # 59
    assert sample.bad == 1


def test_a_loan_that_was_bad_and_cured_is_observed() -> None:
    paid = {1: date(2025, 1, 5), 2: date(2025, 3, 1)}
    loan = make_loan(dues=(date(2024, 10, 1), date(2025, 3, 1)), paid=paid)
    (sample,) = samples(replace(loan, disbursed_on=date(2024, 9, 1)))
    assert sample.features["max_dpd_3m"] == 95
    assert sample.bad == 0


def test_each_loan_is_observed_on_each_date_that_qualifies() -> None:
    loans = [
        replace(make_loan(dues=(date(2025, 3, 1),)), loan_id="A"),
        replace(make_loan(dues=(date(2025, 3, 1),), disbursed_on=date(2025, 2, 1)), loan_id="B"),
    ]
    dates = month_ends(date(2025, 1, 1), date(2025, 3, 31))
    got = build_samples(loans, dates, TARGET, known_until=date(2025, 9, 30))
    assert [(s.loan_id, s.observed_on) for s in got] == [
        ("A", date(2025, 1, 31)),
        ("A", date(2025, 2, 28)),
        ("A", date(2025, 3, 31)),
        ("B", date(2025, 2, 28)),
        ("B", date(2025, 3, 31)),
    ]


# --- no leakage ---------------------------------------------------------------------------------


def test_events_after_the_horizon_change_nothing() -> None:
    loan = make_loan(dues=(date(2025, 1, 10), date(2025, 2, 10)), paid={1: date(2025, 1, 10)})
    later = Allocation("P9", 2, date(2025, 8, 1), Decimal("1000.00"), Decimal("1100.00"))
    more = replace(loan, allocations=(*loan.allocations, later))
    assert samples(more, known_until=date(2025, 12, 31)) == samples(
        loan, known_until=date(2025, 12, 31)
    )


def test_events_after_the_observation_change_only_the_label() -> None:
    unpaid = make_loan(dues=(date(2025, 1, 10), date(2025, 2, 10)), paid={1: date(2025, 1, 10)})
    paid = make_loan(
        dues=(date(2025, 1, 10), date(2025, 2, 10)),
        paid={1: date(2025, 1, 10), 2: date(2025, 2, 10)},
    )
    (bad,), (good,) = samples(unpaid), samples(paid)
    assert (bad.bad, good.bad) == (1, 0)
    assert bad.features == good.features
    assert bad.features == features_as_of(unpaid, OBSERVED)
