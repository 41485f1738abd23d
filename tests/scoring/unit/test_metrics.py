"""Discrimination, calibration and stability metrics of PD models."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve  # type: ignore[import-untyped, unused-ignore]

from scoring.domain.metrics import (
    PSI_EMPTY_BIN_CORRECTION,
    auc,
    bad_rate_by_tier,
    bin_counts,
    calibration,
    evaluate,
    gini,
    ks,
    psi,
    psi_edges,
    psi_from_counts,
)
from scoring.domain.model import FloatArray, TierCutoffs


def make_sample(
    *, seed: int, size: int = 2_000, decimals: int = 2
) -> tuple[FloatArray, FloatArray]:
    """Outcomes drawn from rounded PDs, so that many loans share a PD."""
    rng = np.random.default_rng(seed)
    pd = np.round(rng.beta(1.0, 8.0, size), decimals)
    y = (rng.random(size) < pd).astype(np.float64)
    return y, pd


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("decimals", [1, 2, 8])
def test_auc_equals_sklearn_also_with_ties(seed: int, decimals: int) -> None:
    y, pd = make_sample(seed=seed, decimals=decimals)

    assert auc(y, pd) == pytest.approx(roc_auc_score(y, pd), abs=1e-12)


def test_auc_is_one_for_perfect_ranking_and_one_half_for_all_ties() -> None:
    y = np.array([0, 0, 1, 1])

    assert auc(y, np.array([0.1, 0.2, 0.3, 0.4])) == 1.0
    assert auc(y, np.array([0.4, 0.3, 0.2, 0.1])) == 0.0
    assert auc(y, np.full(4, 0.2)) == 0.5


def test_gini_is_twice_auc_minus_one() -> None:
    y, pd = make_sample(seed=4)

    assert gini(y, pd) == pytest.approx(2 * roc_auc_score(y, pd) - 1, abs=1e-12)


def test_ks_is_the_largest_gap_between_bad_and_good_distributions() -> None:
    goods = [0.1, 0.2, 0.3, 0.4]
    bads = [0.3, 0.5, 0.6, 0.7]
    y = np.array([0] * 4 + [1] * 4)

    # At PD 0.4 all goods and only one bad (the one at 0.3) are at or below it: 1 − 1/4.
    assert ks(y, np.array(goods + bads)) == pytest.approx(0.75)


@pytest.mark.parametrize("seed", [5, 6])
def test_ks_equals_the_largest_tpr_minus_fpr_of_the_roc_curve(seed: int) -> None:
    y, pd = make_sample(seed=seed)
    fpr, tpr, _ = roc_curve(y, pd)

    assert ks(y, pd) == pytest.approx(float(np.max(tpr - fpr)), abs=1e-12)


@pytest.mark.parametrize("metric", [auc, ks, gini])
def test_discrimination_needs_both_classes(metric: object) -> None:
    with pytest.raises(ValueError, match="one class only"):
        metric(np.zeros(5), np.linspace(0.1, 0.5, 5))  # type: ignore[operator]


@pytest.mark.parametrize("metric", [auc, ks, gini])
def test_discrimination_refuses_lengths_that_differ(metric: object) -> None:
    with pytest.raises(ValueError, match="y has 3 values but pd has 2"):
        metric(np.array([0, 1, 1]), np.array([0.1, 0.2]))  # type: ignore[operator]


def test_outcomes_must_be_zero_or_one_and_pd_finite() -> None:
    with pytest.raises(ValueError, match="only 0"):
        auc(np.array([0, 2]), np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="finite"):
        auc(np.array([0, 1]), np.array([0.1, math.nan]))


def test_calibration_gives_equal_count_bins_with_their_mean_pd_and_bad_rate() -> None:
    levels = (np.arange(10) + 0.5) / 10  # 0.05, 0.15 … 0.95
    pd = np.repeat(levels, 20)
    # 20 loans at PD (k + 0.5)/10 hold 2k + 1 bads: a bad rate equal to the PD.
    y = np.concatenate([np.r_[np.ones(2 * k + 1), np.zeros(19 - 2 * k)] for k in range(10)])

    bins = calibration(y, pd)

    assert [b.decile for b in bins] == list(range(1, 11))
    assert all(b.count == 20 for b in bins)
    assert [b.mean_pd for b in bins] == pytest.approx(list(levels))
    assert [b.bad_rate for b in bins] == pytest.approx(list(levels))


def test_calibration_keeps_tied_pds_together_whatever_the_row_order() -> None:
    y, pd = make_sample(seed=7, decimals=1)
    order = np.random.default_rng(8).permutation(pd.size)

    bins = calibration(y, pd, bins=10)

    shuffled = calibration(y[order], pd[order], bins=10)

    assert [(b.decile, b.count) for b in shuffled] == [(b.decile, b.count) for b in bins]
    assert [b.mean_pd for b in shuffled] == pytest.approx([b.mean_pd for b in bins])
    assert [b.bad_rate for b in shuffled] == pytest.approx([b.bad_rate for b in bins])
    assert sum(b.count for b in bins) == pd.size
    assert len({b.mean_pd for b in bins}) == len(bins)


def test_bad_rate_by_tier_lists_all_five_tiers_and_empty_ones_without_rates() -> None:
    cutoffs = TierCutoffs((0.01, 0.03, 0.08, 0.20))
    pd = np.array([0.005, 0.005, 0.05, 0.5, 0.6])
    y = np.array([0, 1, 0, 1, 1])

    tiers = bad_rate_by_tier(y, pd, cutoffs)

    assert [(t.tier, t.count, t.bad_rate) for t in tiers] == [
        ("A", 2, 0.5),
        ("B", 0, None),
        ("C", 1, 0.0),
        ("D", 0, None),
        ("E", 2, 1.0),
    ]
    assert tiers[0].mean_pd == pytest.approx(0.005)
    assert tiers[1].mean_pd is None


def test_evaluate_gathers_every_metric_into_a_json_document() -> None:
    y, pd = make_sample(seed=9)

    metrics = evaluate(y, pd, TierCutoffs())
    doc = json.loads(json.dumps(metrics.to_json(), allow_nan=False))

    assert metrics.auc == pytest.approx(roc_auc_score(y, pd))
    assert metrics.gini == pytest.approx(2 * metrics.auc - 1)
    assert metrics.ks == ks(y, pd)
    assert len(doc["calibration"]) == len(metrics.calibration)
    assert [t["tier"] for t in doc["by_tier"]] == ["A", "B", "C", "D", "E"]


def test_psi_of_identical_populations_is_zero_and_stable() -> None:
    values = np.random.default_rng(10).normal(600, 50, 5_000)

    result = psi(values, values.copy())

    assert result.total == pytest.approx(0.0, abs=1e-12)
    assert result.status == "stable"
    assert len(result.bins) == 10


def test_psi_of_a_shifted_population_calls_for_action() -> None:
    rng = np.random.default_rng(11)

    result = psi(rng.normal(600, 50, 5_000), rng.normal(650, 50, 5_000))

    assert result.total > 0.25
    assert result.status == "act"


def test_psi_of_a_population_moving_into_a_previously_empty_bin_is_large_and_finite() -> None:
    expected = np.random.default_rng(12).uniform(0.0, 2.0, 1_000)
    actual = np.full(1_000, 2.5)
    edges = np.array([-np.inf, 1.0, 2.0, np.inf])

    result = psi(expected, actual, edges)

    e = (np.array([bin_.expected_count for bin_ in result.bins]) + PSI_EMPTY_BIN_CORRECTION) / (
        1_000 + 3 * PSI_EMPTY_BIN_CORRECTION
    )
    a = (np.array([0, 0, 1_000]) + PSI_EMPTY_BIN_CORRECTION) / (
        1_000 + 3 * PSI_EMPTY_BIN_CORRECTION
    )
    assert result.bins[2].expected_count == 0
    assert math.isfinite(result.total)
    assert result.total > 5.0
    assert result.total == pytest.approx(float(np.sum((a - e) * np.log(a / e))))


def test_psi_counts_missing_values_in_a_bin_of_their_own() -> None:
    rng = np.random.default_rng(13)
    expected = rng.normal(0, 1, 4_000)
    actual = rng.normal(0, 1, 4_000)
    actual[:1_200] = np.nan

    result = psi(expected, actual)
    missing = result.bins[-1]

    assert missing.is_missing
    assert (missing.expected_count, missing.actual_count) == (0, 1_200)
    assert missing.actual_share == pytest.approx(0.3)
    assert result.total > 0.10
    assert not any(b.is_missing for b in psi(expected, expected).bins)


def test_psi_from_counts_agrees_with_psi_on_the_same_bins() -> None:
    rng = np.random.default_rng(14)
    expected, actual = rng.normal(0, 1, 3_000), rng.normal(0.2, 1, 2_000)
    edges = psi_edges(expected)

    from_counts = psi_from_counts(bin_counts(expected, edges), bin_counts(actual, edges), edges)

    assert from_counts == psi(expected, actual)


def test_psi_from_counts_accepts_counts_without_a_missing_count() -> None:
    edges = np.array([-np.inf, 0.0, np.inf])

    result = psi_from_counts([60, 40], [40, 60], edges)

    assert [b.expected_count for b in result.bins] == [60, 40]
    assert result.bins[0].lower == -math.inf


def test_psi_status_follows_the_warn_and_act_thresholds() -> None:
    edges = np.array([-np.inf, 0.0, np.inf])
    total = psi_from_counts([60, 40], [40, 60], edges).total

    def status(warn: float, act: float) -> str:
        return psi_from_counts([60, 40], [40, 60], edges, warn=warn, act=act).status

    assert status(total * 1.01, total * 2) == "stable"
    assert status(total, total * 2) == "warn"
    assert status(total / 2, total * 1.01) == "warn"
    assert status(total / 2, total) == "act"


def test_psi_edges_are_deduplicated_deciles_with_open_ends() -> None:
    values = np.r_[np.zeros(800), np.arange(1.0, 201.0)]

    edges = psi_edges(values)

    assert edges[0] == -np.inf
    assert edges[-1] == np.inf
    assert (np.diff(edges) > 0).all()
    assert np.count_nonzero(edges == 0.0) == 1


def test_psi_bins_are_closed_on_the_right() -> None:
    counts = bin_counts(
        np.array([1.0, 1.5, 2.0, 3.0, math.nan]), np.array([-np.inf, 1.0, 2.0, np.inf])
    )

    assert counts.tolist() == [1, 2, 1, 1]


def test_psi_result_is_plain_json_even_with_open_ends_and_a_missing_bin() -> None:
    result = psi(np.array([1.0, 2.0, 3.0, math.nan]), np.array([1.0, math.nan, math.nan, 3.0]))

    doc = json.loads(json.dumps(result.to_json(), allow_nan=False))

    assert doc["bins"][0]["lower"] is None
    assert doc["bins"][-1]["missing"] is True
    assert doc["status"] == result.status


@pytest.mark.parametrize(
    ("edges", "message"),
    [
        (np.array([1.0]), "at least two"),
        (np.array([0.0, 0.0, 1.0]), "strictly increasing"),
        (np.array([0.0, math.nan]), "strictly increasing"),
    ],
)
def test_psi_refuses_bad_edges(edges: FloatArray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        psi(np.array([1.0, 2.0]), np.array([1.0, 2.0]), edges)


def test_psi_from_counts_refuses_counts_that_do_not_fit_the_bins() -> None:
    edges = np.array([-np.inf, 0.0, np.inf])

    with pytest.raises(ValueError, match="one count per bin"):
        psi_from_counts([1, 2, 3, 4], [1, 2], edges)
    with pytest.raises(ValueError, match="non-negative whole"):
        psi_from_counts([1, -2], [1, 2], edges)
    with pytest.raises(ValueError, match="actual population is empty"):
        psi_from_counts([1, 2], [0, 0], edges)
