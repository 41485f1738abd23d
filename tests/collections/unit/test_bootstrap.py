"""Bootstrap intervals checked against distributions computed by hand.

Two cases recovering 0.00 and 1.00: a resample's mean is 0.00, 0.50 or 1.00 with chances 1/4,
1/2, 1/4, so of 2,000 resamples some 500 have mean 0.00 and some 500 mean 1.00 — far more than
the 51 that the 2.5th and 97.5th percentile ranks (50 and 1,949) need: the interval is
[0.00, 1.00]. Three cases 0.00, 0.00, 3.00: means 0, 1, 2, 3 with chances 8/27, 12/27, 6/27,
1/27; P(mean <= 2) = 26/27 = 0.963 < 0.975, so the upper bound is 3.00 (some 74 resamples)."""

from __future__ import annotations

from decimal import Decimal

from collections_service.domain.bootstrap import cents, mean_interval, percentile_bounds


def test_two_cases_give_the_whole_range_by_hand() -> None:
    found = mean_interval([0, 100], "t")
    assert (found.mean, found.low, found.high) == (
        Decimal("0.50"),
        Decimal("0.00"),
        Decimal("1.00"),
    )
    assert found.method == "bootstrap"


def test_three_cases_reach_the_rare_top_mean_by_hand() -> None:
    found = mean_interval([0, 0, 300], "t")
    assert (found.mean, found.low, found.high) == (
        Decimal("1.00"),
        Decimal("0.00"),
        Decimal("3.00"),
    )


def test_identical_cases_have_no_spread_and_thirty_are_enough() -> None:
    found = mean_interval([cents(Decimal("12.34"))] * 30, "t")
    assert (found.low, found.mean, found.high) == (Decimal("12.34"),) * 3
    assert (found.enough, found.warning) == (True, None)


def test_a_small_sample_carries_a_warning() -> None:
    found = mean_interval([0, 100], "t")
    assert found.enough is False
    assert found.warning is not None
    assert "too small" in found.warning
    assert mean_interval([], "t").warning == "no cases"


def test_the_same_seed_gives_the_same_interval() -> None:
    values = [0, 250, 1000, 40, 7, 99, 3000, 0, 0, 12]
    assert mean_interval(values, "a") == mean_interval(values, "a")


def test_above_the_exact_limit_the_normal_interval_is_used_as_computed_by_hand() -> None:
    # 0, 1, 2, 3 (in units): mean 1.5, s = sqrt(5/3) = 1.29099, se = 0.645497,
    # 1.959964 x se = 1.265151: [0.234849, 2.765151] -> [0.23, 2.77]
    found = mean_interval([0, 100, 200, 300], "t", exact_limit=3)
    assert (found.method, found.low, found.mean, found.high) == (
        "normal", Decimal("0.23"), Decimal("1.50"), Decimal("2.77"),
    )  # fmt: skip


def test_percentile_ranks_are_the_documented_ones() -> None:
    means = [float(i) for i in range(2000)]
    assert percentile_bounds(means) == (50.0, 1949.0)
