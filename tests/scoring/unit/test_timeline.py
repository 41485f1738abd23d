"""The features of the days ahead from a loan's segments equal a rebuild of each day from its
history: on realistic histories from the simulator, with alerts, reversals and bureau reports
dated ahead, and on month-end disbursements whose anniversaries clamp."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from scoring.domain.features import BEHAVIOUR_FEATURES, add_months, features_as_of
from scoring.domain.history import AlertPoint, Allocation, BureauPoint, Instalment, LoanHistory
from scoring.domain.model import FeatureSpec
from scoring.domain.timeline import (
    HORIZON_DAYS,
    NAMES,
    Segment,
    advance,
    model_columns,
    segment_on,
    timeline,
    values_on,
)
from simulated_histories import histories_from_plan
from simulator import make_plan


def assert_segments_match_rebuilds(history: LoanHistory, as_of: date) -> None:
    known = history.as_known_on(as_of)
    segments = timeline(known, as_of)
    assert segments[0].starts_on == as_of
    assert segments[-1] == Segment(as_of + timedelta(days=HORIZON_DAYS), None, False)
    for offset in range(HORIZON_DAYS):
        day = as_of + timedelta(days=offset)
        rebuilt = features_as_of(known, day)
        expected = tuple(rebuilt[name] for name in NAMES)
        assert values_on(segment_on(segments, day), day) == expected, (history.loan_id, day)


@pytest.fixture(scope="module")
def histories() -> list[LoanHistory]:
    plan = make_plan(loans=120, months=14, seed=11, start=date(2025, 1, 1))
    return histories_from_plan(plan)


def with_alerts_and_reversals(history: LoanHistory, rng: random.Random) -> LoanHistory:
    """Alerts on random days and the odd payment reversed a few days after it was booked."""
    start = history.disbursed_on
    alerts = tuple(
        AlertPoint(start + timedelta(days=rng.randrange(400)), "R") for _ in range(rng.randrange(3))
    )
    reversed_ = tuple(
        Allocation(a.payment_id, a.seq, a.booked_on + timedelta(days=rng.randrange(1, 20)),
                   -a.principal, -a.total)
        for a in history.allocations
        if rng.random() < 0.1
    )  # fmt: skip
    allocations = tuple(sorted(history.allocations + reversed_, key=lambda a: a.booked_on))
    return replace(history, alerts=alerts, allocations=allocations)


def test_segments_equal_daily_rebuilds_on_the_simulator_histories(
    histories: list[LoanHistory],
) -> None:
    rng = random.Random(5)
    for history in histories:
        for _ in range(3):
            as_of = history.disbursed_on + timedelta(days=rng.randrange(0, 330))
            assert_segments_match_rebuilds(history, as_of)


def test_segments_equal_daily_rebuilds_with_alerts_and_reversals(
    histories: list[LoanHistory],
) -> None:
    rng = random.Random(8)
    for history in histories:
        varied = with_alerts_and_reversals(history, rng)
        for _ in range(3):
            as_of = history.disbursed_on + timedelta(days=rng.randrange(0, 330))
            assert_segments_match_rebuilds(varied, as_of)


def month_end_loan(disbursed: date, paid: int) -> LoanHistory:
    """Six instalments from a month-end disbursement; the first ``paid`` paid 40 days late."""
    instalments = tuple(
        Instalment(s, add_months(disbursed, s), Decimal("100.00"), Decimal("110.00"))
        for s in range(1, 7)
    )
    allocations = tuple(
        Allocation(f"P{i.seq}", i.seq, i.due_on + timedelta(days=40), i.principal, i.due)
        for i in instalments[:paid]
    )
    return LoanHistory("M", Decimal("600.00"), disbursed, instalments, allocations, (), ())


@pytest.mark.parametrize("disbursed", [date(2025, 1, 31), date(2024, 1, 29), date(2025, 8, 31)])
def test_month_end_anniversaries_and_windows_clamp_exactly(disbursed: date) -> None:
    history = month_end_loan(disbursed, paid=3)
    for offset in range(0, 400, 9):
        assert_segments_match_rebuilds(history, disbursed + timedelta(days=offset))


def test_a_bureau_report_dated_ahead_shows_on_its_day() -> None:
    history = replace(
        month_end_loan(date(2025, 3, 10), paid=0),
        bureau=(BureauPoint(date(2025, 3, 20), 640, 1, 2, 0),),
    )
    segments = timeline(history, date(2025, 3, 12))
    assert (
        values_on(segment_on(segments, date(2025, 3, 19)), date(2025, 3, 19))[
            NAMES.index("bureau_score")
        ]
        is None
    )
    assert (
        values_on(segment_on(segments, date(2025, 3, 20)), date(2025, 3, 20))[
            NAMES.index("bureau_score")
        ]
        == 640.0
    )


def test_advance_grows_dpd_and_every_window_only_where_dpd_ticks() -> None:
    base = np.full((2, len(NAMES)), np.nan)
    base[:, NAMES.index("dpd_now")] = [5, 0]
    base[:, NAMES.index("max_dpd_3m")] = [5, 0]
    base[:, NAMES.index("max_dpd_6m")] = [30, 12]
    base[:, NAMES.index("max_dpd_12m")] = [30, 12]
    grown = advance(base, [40, 40], np.array([True, False]))
    assert grown[0, NAMES.index("dpd_now")] == 45
    assert grown[0, NAMES.index("max_dpd_3m")] == 45
    assert grown[0, NAMES.index("max_dpd_6m")] == 45
    assert grown[1, NAMES.index("dpd_now")] == 0
    assert grown[1, NAMES.index("max_dpd_6m")] == 12
    assert np.isnan(grown[0, NAMES.index("bureau_score")])


def test_a_model_reads_its_own_columns_and_nan_for_features_scoring_does_not_build() -> None:
    matrix = np.arange(len(NAMES), dtype=np.float64).reshape(1, -1)
    features = (BEHAVIOUR_FEATURES[3], FeatureSpec("income", "Income", "descending"))
    assert model_columns(matrix, features)[0, 0] == 3.0
    assert np.isnan(model_columns(matrix, features)[0, 1])
