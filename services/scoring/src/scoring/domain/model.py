"""What every served model shares: the score scale, risk tiers, reasons and the scoring protocol.

A model maps a loan's feature values (floats; ``None`` is missing) to a probability of default.
Points follow the usual scorecard scale: ``base_points`` at good:bad odds of ``base_odds`` and
``pdo`` more points each time the odds double. Tiers A–E are PD bands with configurable upper
bounds. PD is a probability, not money: floats are right here; it becomes a 4-place ``Decimal``
only at the API and event boundary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from scoring.domain.json_object import JsonObject

FeatureValues = Mapping[str, float | None]
FloatArray = npt.NDArray[np.float64]
Tier = Literal["A", "B", "C", "D", "E"]
TIERS: tuple[Tier, ...] = ("A", "B", "C", "D", "E")
MonotonicTrend = Literal["ascending", "descending", "auto"]


@dataclass(frozen=True)
class FeatureSpec:
    """A model input: its name (also its reason code, upper-cased), meaning and expected trend.

    ``trend`` is the business expectation of the event rate as the value grows (``ascending``:
    higher value, more defaults), which binning enforces; ``special_codes`` are values with a
    meaning of their own (kept in a bin of their own rather than binned with their neighbours).
    """

    name: str
    description: str
    trend: MonotonicTrend = "auto"
    special_codes: tuple[float, ...] = ()

    @property
    def reason_code(self) -> str:
        return self.name.upper()


@dataclass(frozen=True)
class ScoreScale:
    base_points: float = 600.0
    base_odds: float = 50.0  # good:bad
    pdo: float = 20.0

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.base_odds)

    def points(self, pd: float) -> float:
        pd = min(max(pd, 1e-12), 1.0 - 1e-12)
        return self.offset + self.factor * math.log((1.0 - pd) / pd)

    def pd(self, points: float) -> float:
        """The PD that ``points`` stand for on this scale (the inverse of :meth:`points`)."""
        return 1.0 / (1.0 + math.exp((points - self.offset) / self.factor))

    def pd_array(self, points: FloatArray) -> FloatArray:
        return 1.0 / (1.0 + np.exp((points - self.offset) / self.factor))

    def points_array(self, pd: FloatArray) -> FloatArray:
        clipped = np.clip(pd, 1e-12, 1.0 - 1e-12)
        return self.offset + self.factor * np.log((1.0 - clipped) / clipped)


@dataclass(frozen=True)
class TierCutoffs:
    """Upper PD bounds (exclusive) of tiers A–D; E is everything above D's bound."""

    upper_pd: tuple[float, float, float, float] = (0.01, 0.03, 0.08, 0.20)

    def __post_init__(self) -> None:
        bounds = self.upper_pd
        if (
            len(bounds) != 4
            or any(not 0 < b < 1 for b in bounds)
            or list(bounds) != sorted(set(bounds))
        ):
            raise ValueError("tier cut-offs must be four increasing PDs strictly between 0 and 1")

    def tier(self, pd: float) -> Tier:
        for name, bound in zip(TIERS, self.upper_pd, strict=False):
            if pd < bound:
                return name
        return "E"

    def tier_array(self, pd: FloatArray) -> npt.NDArray[np.int64]:
        """Tier indexes (0 = A … 4 = E) of many PDs at once."""
        return np.searchsorted(np.asarray(self.upper_pd), pd, side="right").astype(np.int64)


@dataclass(frozen=True)
class Reason:
    code: str
    description: str
    points_lost: int


@dataclass(frozen=True)
class Scored:
    pd: float
    score: int
    tier: Tier
    reasons: tuple[Reason, ...]


class ServedModel(Protocol):
    """A model as the service runs it: numpy and Python only, no training library."""

    @property
    def version(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def features(self) -> tuple[FeatureSpec, ...]: ...

    @property
    def tiers(self) -> TierCutoffs: ...

    @property
    def scale(self) -> ScoreScale: ...

    @property
    def meta(self) -> Mapping[str, Any]:
        """What the document records besides the model (e.g. its default definition)."""
        ...

    def to_json(self) -> JsonObject:
        """The model's document: what the registry stores and serves it from."""
        ...

    def score(self, values: FeatureValues) -> Scored:
        """One loan, with up to four reasons."""
        ...

    def score_matrix(self, matrix: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Many loans at once: ``matrix`` has one column per feature (NaN is missing), in
        :attr:`features` order; returns (PD, points) arrays."""
        ...


class InvalidModel(ValueError):
    """A model document that cannot be served; the message says what is wrong with it."""


def scores_and_tiers(
    model: ServedModel, matrix: FloatArray
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The whole-point scores and tier indexes (into :data:`TIERS`) of a matrix of loans in
    ``model.features`` order: what a stored score is compared on."""
    pd, points = model.score_matrix(matrix)
    return np.rint(points).astype(np.int64), model.tiers.tier_array(pd)


def feature_matrix(rows: Sequence[FeatureValues], features: tuple[FeatureSpec, ...]) -> FloatArray:
    """Rows of feature values as a matrix in ``features`` order (missing values are NaN)."""
    names = [f.name for f in features]
    nan = float("nan")
    return np.array(
        [[nan if (v := row.get(n)) is None else v for n in names] for row in rows],
        dtype=np.float64,
    ).reshape(len(rows), len(names))
