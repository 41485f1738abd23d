"""How well a PD model separates and calibrates, and how far a population has drifted.

Pure numpy, because the live service runs these for drift monitoring and back-tests without
any training library. Outcomes ``y`` are 0/1 (1 = default, "bad"); ``pd`` is the predicted
probability of default, so a higher PD should mean a bad.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from scoring.domain.json_object import JsonObject
from scoring.domain.model import TIERS, FloatArray, TierCutoffs

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Added to every bin's count on both sides before PSI shares are taken: an empty bin would
# otherwise make ln(actual/expected) infinite (or be dropped and hide the drift entirely).
PSI_EMPTY_BIN_CORRECTION = 0.5


def _outcomes(y: npt.ArrayLike, pd: npt.ArrayLike) -> tuple[BoolArray, FloatArray]:
    """``y`` as booleans and ``pd`` as floats, after checking they describe the same loans."""
    outcomes = np.asarray(y)
    scores = np.asarray(pd, dtype=np.float64)
    if outcomes.ndim != 1 or scores.ndim != 1:
        raise ValueError("y and pd must be one-dimensional")
    if outcomes.shape != scores.shape:
        raise ValueError(f"y has {outcomes.size} values but pd has {scores.size}")
    if outcomes.size == 0:
        raise ValueError("y and pd are empty")
    if not np.isin(outcomes, (0, 1)).all():
        raise ValueError("y must hold only 0 (good) and 1 (bad)")
    if not np.isfinite(scores).all():
        raise ValueError("pd must be finite (no NaN or infinity)")
    return outcomes.astype(np.bool_), scores


def _both_classes(y: npt.ArrayLike, pd: npt.ArrayLike) -> tuple[BoolArray, FloatArray]:
    bad, scores = _outcomes(y, pd)
    if bad.all() or not bad.any():
        raise ValueError("y holds one class only: discrimination needs both goods and bads")
    return bad, scores


def _average_ranks(values: FloatArray) -> FloatArray:
    """1-based ranks, tied values sharing the mean of the ranks they span."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], ordered.size]
    group_rank = (starts + 1 + ends) / 2.0  # mean of ranks starts+1 … ends
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.repeat(group_rank, ends - starts)
    return ranks


def auc(y: npt.ArrayLike, pd: npt.ArrayLike) -> float:
    """Area under the ROC curve from the Mann–Whitney rank sum (ties count one half)."""
    bad, scores = _both_classes(y, pd)
    n_bad = float(bad.sum())
    n_good = float(bad.size) - n_bad
    rank_sum = float(_average_ranks(scores)[bad].sum())
    return (rank_sum - n_bad * (n_bad + 1.0) / 2.0) / (n_bad * n_good)


def ks(y: npt.ArrayLike, pd: npt.ArrayLike) -> float:
    """Kolmogorov–Smirnov: the largest gap between the PD distributions of bads and goods.

    The cumulative distributions are compared only between distinct PD values, so loans with
    the same PD are never split apart.
    """
    bad, scores = _both_classes(y, pd)
    order = np.argsort(scores, kind="stable")
    ordered_bad = bad[order]
    cum_bad = np.cumsum(ordered_bad) / ordered_bad.sum()
    cum_good = np.cumsum(~ordered_bad) / (~ordered_bad).sum()
    ordered = scores[order]
    group_ends = np.r_[ordered[1:] != ordered[:-1], True]
    return float(np.abs(cum_bad - cum_good)[group_ends].max())


def gini(y: npt.ArrayLike, pd: npt.ArrayLike) -> float:
    """Gini (accuracy ratio) = 2·AUC − 1."""
    return 2.0 * auc(y, pd) - 1.0


@dataclass(frozen=True)
class CalibrationBin:
    """One PD quantile bin: ``decile`` counts from 1 (lowest PD)."""

    decile: int
    count: int
    mean_pd: float
    bad_rate: float


def calibration(y: npt.ArrayLike, pd: npt.ArrayLike, bins: int = 10) -> list[CalibrationBin]:
    """Predicted PD against observed bad rate in ``bins`` equal-count bins of PD.

    Loans with the same PD always land in the same bin (the bin of their group's middle rank),
    so the result does not depend on row order; a heavily tied PD can therefore leave a
    neighbouring bin empty, and empty bins are left out.
    """
    if bins < 1:
        raise ValueError("bins must be at least 1")
    bad, scores = _outcomes(y, pd)
    position = (_average_ranks(scores) - 0.5) * bins / scores.size
    index = np.minimum(position.astype(np.int64), bins - 1)
    return [_calibration_bin(int(b), bad[index == b], scores[index == b]) for b in np.unique(index)]


def _calibration_bin(index: int, bad: BoolArray, scores: FloatArray) -> CalibrationBin:
    return CalibrationBin(
        decile=index + 1,
        count=int(scores.size),
        mean_pd=float(scores.mean()),
        bad_rate=float(bad.mean()),
    )


@dataclass(frozen=True)
class TierBin:
    """A risk tier's volume and rates; the rates are ``None`` when no loan fell in it."""

    tier: str
    count: int
    bad_rate: float | None
    mean_pd: float | None


def bad_rate_by_tier(y: npt.ArrayLike, pd: npt.ArrayLike, cutoffs: TierCutoffs) -> list[TierBin]:
    """Observed bad rate and mean PD in each of the five tiers, empty tiers included."""
    bad, scores = _outcomes(y, pd)
    tiers = cutoffs.tier_array(scores)
    result: list[TierBin] = []
    for index, name in enumerate(TIERS):
        members = tiers == index
        count = int(members.sum())
        result.append(
            TierBin(
                tier=name,
                count=count,
                bad_rate=float(bad[members].mean()) if count else None,
                mean_pd=float(scores[members].mean()) if count else None,
            )
        )
    return result


@dataclass(frozen=True)
class PsiBin:
    """One bin of a PSI: values in (lower, upper]; the outermost bins are open-ended.

    The bin of missing values has NaN bounds. Shares are the observed ones; ``contribution``
    is computed from the corrected counts (see :func:`psi_from_counts`).
    """

    lower: float
    upper: float
    expected_count: int
    actual_count: int
    expected_share: float
    actual_share: float
    contribution: float

    @property
    def is_missing(self) -> bool:
        return math.isnan(self.lower)

    def to_json(self) -> JsonObject:
        # JSON has no infinity or NaN: an open end or the missing bin's bounds become null.
        return {
            "lower": self.lower if math.isfinite(self.lower) else None,
            "upper": self.upper if math.isfinite(self.upper) else None,
            "missing": self.is_missing,
            "expected_count": self.expected_count,
            "actual_count": self.actual_count,
            "expected_share": self.expected_share,
            "actual_share": self.actual_share,
            "contribution": self.contribution,
        }


@dataclass(frozen=True)
class PsiResult:
    total: float
    bins: tuple[PsiBin, ...]
    status: str  # "stable", "warn" or "act"

    def to_json(self) -> JsonObject:
        return {
            "total": self.total,
            "status": self.status,
            "bins": [b.to_json() for b in self.bins],
        }


def psi_edges(expected: npt.ArrayLike, bins: int = 10) -> FloatArray:
    """Quantile edges of the finite ``expected`` values, deduplicated, with ±inf ends."""
    values = np.asarray(expected, dtype=np.float64)
    # Infinite values would make interpolated quantiles NaN; they count in the open end bins.
    present = values[np.isfinite(values)]
    if bins < 1:
        raise ValueError("bins must be at least 1")
    if present.size == 0:
        return np.array([-np.inf, np.inf])
    inner = np.quantile(present, np.arange(1, bins) / bins)
    return np.unique(np.r_[-np.inf, inner, np.inf])


def _check_edges(edges: npt.ArrayLike) -> FloatArray:
    bounds = np.asarray(edges, dtype=np.float64)
    if bounds.ndim != 1 or bounds.size < 2:
        raise ValueError("edges must be a list of at least two bin boundaries")
    if np.isnan(bounds).any() or not (np.diff(bounds) > 0).all():
        raise ValueError("edges must be strictly increasing numbers")
    return bounds


def bin_counts(values: npt.ArrayLike, edges: npt.ArrayLike) -> IntArray:
    """How many ``values`` fall in each bin of ``edges``, plus a last count of missing (NaN).

    Bins are (lower, upper]; values beyond the outermost edges count in the outermost bins.
    The result has ``len(edges)`` counts: ``len(edges) - 1`` bins and the missing one.
    """
    bounds = _check_edges(edges)
    data = np.asarray(values, dtype=np.float64).ravel()
    missing = np.isnan(data)
    index = np.searchsorted(bounds[1:-1], data[~missing], side="left")
    counts = np.bincount(index, minlength=bounds.size - 1).astype(np.int64)
    return np.append(counts, np.int64(missing.sum()))


def _status(total: float, warn: float, act: float) -> str:
    if total < warn:
        return "stable"
    return "warn" if total < act else "act"


def _check_counts(counts: npt.ArrayLike, n_bins: int, side: str) -> IntArray:
    array = np.asarray(counts)
    if array.ndim != 1 or array.size not in (n_bins, n_bins + 1):
        raise ValueError(f"{side} counts must have one count per bin (and maybe a missing one)")
    if not np.isfinite(array).all() or (array < 0).any() or (array != np.round(array)).any():
        raise ValueError(f"{side} counts must be non-negative whole numbers")
    if array.sum() == 0:
        raise ValueError(f"{side} population is empty")
    return np.append(array, 0)[: n_bins + 1].astype(np.int64)


def psi_from_counts(
    expected_counts: npt.ArrayLike,
    actual_counts: npt.ArrayLike,
    edges: npt.ArrayLike,
    *,
    warn: float = 0.10,
    act: float = 0.25,
) -> PsiResult:
    """Population stability index of two populations already counted into the bins of ``edges``.

    Counts hold one count per bin (``len(edges) - 1``), optionally followed by the count of
    missing values, as :func:`bin_counts` returns them. PSI = Σ (a − e)·ln(a / e) over the
    bins' shares, where **every** bin's count, on both sides, is first increased by
    ``PSI_EMPTY_BIN_CORRECTION`` (0.5): a population moving into a bin that was empty
    then gives a large finite PSI rather than infinity, NaN, or nothing. The missing bin is
    reported (and corrected) only when either side has missing values.
    """
    if not 0 < warn < act:
        raise ValueError("thresholds must satisfy 0 < warn < act")
    bounds = _check_edges(edges)
    n_bins = bounds.size - 1
    expected = _check_counts(expected_counts, n_bins, "expected")
    actual = _check_counts(actual_counts, n_bins, "actual")
    keep = n_bins + 1 if expected[-1] or actual[-1] else n_bins
    expected, actual = expected[:keep], actual[:keep]
    e_share = (expected + PSI_EMPTY_BIN_CORRECTION) / (expected + PSI_EMPTY_BIN_CORRECTION).sum()
    a_share = (actual + PSI_EMPTY_BIN_CORRECTION) / (actual + PSI_EMPTY_BIN_CORRECTION).sum()
    contributions = (a_share - e_share) * np.log(a_share / e_share)
    lowers = np.r_[bounds[:-1], np.nan][:keep]
    uppers = np.r_[bounds[1:], np.nan][:keep]
    bins = tuple(
        PsiBin(
            lower=float(lowers[i]),
            upper=float(uppers[i]),
            expected_count=int(expected[i]),
            actual_count=int(actual[i]),
            expected_share=float(expected[i] / expected.sum()),
            actual_share=float(actual[i] / actual.sum()),
            contribution=float(contributions[i]),
        )
        for i in range(keep)
    )
    total = float(contributions.sum())
    return PsiResult(total=total, bins=bins, status=_status(total, warn, act))


def psi(
    expected: FloatArray,
    actual: FloatArray,
    edges: FloatArray | None = None,
    *,
    warn: float = 0.10,
    act: float = 0.25,
) -> PsiResult:
    """PSI of raw values (scores or a characteristic) of a reference and a current population.

    Without ``edges`` the bins are the deciles of ``expected`` (see :func:`psi_edges`). NaN
    values are counted in a bin of their own so that a change in missing-ness shows as drift.
    Status: "stable" below ``warn``, "warn" below ``act``, else "act".
    """
    bounds = psi_edges(expected) if edges is None else _check_edges(edges)
    return psi_from_counts(
        bin_counts(expected, bounds), bin_counts(actual, bounds), bounds, warn=warn, act=act
    )


@dataclass(frozen=True)
class ModelMetrics:
    auc: float
    ks: float
    gini: float
    calibration: tuple[CalibrationBin, ...]
    by_tier: tuple[TierBin, ...]

    def to_json(self) -> JsonObject:
        return {
            "auc": self.auc,
            "ks": self.ks,
            "gini": self.gini,
            "calibration": [asdict(b) for b in self.calibration],
            "by_tier": [asdict(b) for b in self.by_tier],
        }


def evaluate(y: npt.ArrayLike, pd: npt.ArrayLike, cutoffs: TierCutoffs) -> ModelMetrics:
    """Discrimination, decile calibration and tier bad rates of one model on one sample."""
    area = auc(y, pd)
    return ModelMetrics(
        auc=area,
        ks=ks(y, pd),
        gini=2.0 * area - 1.0,
        calibration=tuple(calibration(y, pd)),
        by_tier=tuple(bad_rate_by_tier(y, pd, cutoffs)),
    )
