"""The champion as served: a points table of integer points per bin of each characteristic.

A loan's points are ``intercept`` plus, for every characteristic, the points of the bin its
value falls in; its PD is ``scale.pd(points)``. The table is exported from optbinning's
``Scorecard`` (``rounding=True``, not intercept-based) and reproduces its ``score()`` exactly:

* numerical bins are ``[lower, upper)`` intervals with ``-inf``/``inf`` outer ends (optbinning's
  ``np.digitize(x, splits, right=False)``), so a value on a cut point belongs to the upper bin;
* a special code has a bin of its own (checked before the intervals); NaN or ``None`` is the
  Missing bin; a categorical value in no bin (a category unseen in training) scores the Missing
  bin's points, as optbinning does (its index ``-1`` is the Missing row).

Reason codes (the adverse-action method of Regulation B, comment 9(b)(2)-5, "compare with the
maximum points"): for each characteristic, ``points_lost`` = the most points any of its bins
(special and Missing included) awards − the points of the loan's bin. The reasons are the (up
to four) characteristics with the largest positive loss; ties go to the earlier feature.

Its characteristics are in :mod:`scoring.domain.scorecard_bins`; its JSON document is read and
written by :mod:`scoring.domain.scorecard_document`, which builds on those alone.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scoring.domain.json_object import JsonObject
from scoring.domain.model import (
    FeatureSpec,
    FeatureValues,
    FloatArray,
    InvalidModel,
    Reason,
    Scored,
    ScoreScale,
    TierCutoffs,
)
from scoring.domain.scorecard_bins import KIND
from scoring.domain.scorecard_bins import Characteristic as Characteristic
from scoring.domain.scorecard_bins import SpecialBin as SpecialBin
from scoring.domain.scorecard_document import ScorecardParts, scorecard_from_json, scorecard_to_json

MAX_REASONS = 4


@dataclass(frozen=True, slots=True)
class _Lookup:
    """A characteristic flattened for the per-loan hot path (built once at load time)."""

    name: str
    edges: list[float]
    bin_points: list[int]
    special: dict[float, int]
    categories: dict[float, int] | None
    missing: int
    best: int
    reason_code: str
    description: str


@dataclass(frozen=True, slots=True)
class _Columns:
    """A characteristic as numpy arrays for whole-portfolio scoring."""

    edges: FloatArray
    bin_points: FloatArray
    special: tuple[tuple[float, float], ...]
    missing: float
    category_codes: FloatArray | None = None


def _lookup(ch: Characteristic) -> _Lookup:
    categories = None
    if ch.categories is not None:
        categories = {
            v: p for group, p in zip(ch.categories, ch.points, strict=True) for v in group
        }
    return _Lookup(
        name=ch.feature.name,
        edges=list(ch.edges),
        bin_points=list(ch.points),
        special={c: s.points for s in ch.special for c in s.codes},
        categories=categories,
        missing=ch.missing_points,
        best=ch.max_points,
        reason_code=ch.feature.reason_code,
        description=ch.feature.description,
    )


def _columns(ch: Characteristic) -> _Columns:
    special = tuple((c, float(s.points)) for s in ch.special for c in s.codes)
    if ch.categories is None:
        return _Columns(
            edges=np.asarray(ch.edges, dtype=np.float64),
            bin_points=np.asarray(ch.points, dtype=np.float64),
            special=special,
            missing=float(ch.missing_points),
        )
    pairs = sorted(
        (v, float(p)) for group, p in zip(ch.categories, ch.points, strict=True) for v in group
    )
    return _Columns(
        edges=np.empty(0),
        bin_points=np.asarray([p for _, p in pairs], dtype=np.float64),
        special=special,
        missing=float(ch.missing_points),
        category_codes=np.asarray([v for v, _ in pairs], dtype=np.float64),
    )


def _column_points(col: _Columns, values: FloatArray) -> FloatArray:
    if col.category_codes is None:
        points = col.bin_points[np.searchsorted(col.edges, values, side="right")]
    else:
        # Sorted codes + searchsorted is a vectorised dictionary lookup; a miss is unseen.
        at = np.minimum(np.searchsorted(col.category_codes, values), col.category_codes.size - 1)
        known = col.category_codes[at] == values
        points = np.where(known, col.bin_points[at], col.missing)
    for code, code_points in col.special:
        points[values == code] = code_points
    points[np.isnan(values)] = col.missing
    return points


class ScorecardModel:
    """A served scorecard (see the module docstring for the binning and reasons rules)."""

    __slots__ = ("_characteristics", "_columns", "_lookups", "_meta", "_version", "intercept",
                 "scale", "tiers")  # fmt: skip

    def __init__(
        self,
        *,
        version: str,
        characteristics: Sequence[Characteristic],
        scale: ScoreScale,
        tiers: TierCutoffs,
        intercept: int = 0,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        if not version:
            raise InvalidModel("a scorecard needs a version")
        if not characteristics:
            raise InvalidModel(f"scorecard {version}: no characteristics")
        names = [c.feature.name for c in characteristics]
        if len(set(names)) != len(names):
            raise InvalidModel(f"scorecard {version}: a feature appears twice")
        if type(intercept) is not int:
            raise InvalidModel(f"scorecard {version}: the intercept must be an integer")
        self._version = version
        self._characteristics = tuple(characteristics)
        self.scale = scale
        self.tiers = tiers
        self.intercept = intercept
        self._meta = dict(meta or {})
        self._lookups = tuple(_lookup(c) for c in self._characteristics)
        self._columns = tuple(_columns(c) for c in self._characteristics)

    @property
    def version(self) -> str:
        return self._version

    @property
    def kind(self) -> str:
        return KIND

    @property
    def features(self) -> tuple[FeatureSpec, ...]:
        return tuple(c.feature for c in self._characteristics)

    @property
    def characteristics(self) -> tuple[Characteristic, ...]:
        return self._characteristics

    @property
    def meta(self) -> Mapping[str, Any]:
        return dict(self._meta)

    def points(self, values: FeatureValues) -> list[int]:
        """Points of each characteristic for one loan (absent, None or NaN is missing)."""
        result: list[int] = []
        for lk in self._lookups:
            value = values.get(lk.name)
            if value is None or value != value:
                result.append(lk.missing)
            elif lk.special and value in lk.special:
                result.append(lk.special[value])
            elif lk.categories is not None:
                result.append(lk.categories.get(value, lk.missing))
            else:
                result.append(lk.bin_points[bisect_right(lk.edges, value)])
        return result

    def score(self, values: FeatureValues) -> Scored:
        earned = self.points(values)
        total = self.intercept + sum(earned)
        pd = self.scale.pd(total)
        return Scored(pd=pd, score=total, tier=self.tiers.tier(pd), reasons=self._reasons(earned))

    def _reasons(self, earned: list[int]) -> tuple[Reason, ...]:
        losses = [
            (lk.best - p, i) for i, (lk, p) in enumerate(zip(self._lookups, earned, strict=True))
        ]
        worst = sorted((-lost, i) for lost, i in losses if lost > 0)[:MAX_REASONS]
        return tuple(
            Reason(
                code=self._lookups[i].reason_code,
                description=self._lookups[i].description,
                points_lost=-neg,
            )
            for neg, i in worst
        )

    def score_matrix(self, matrix: FloatArray) -> tuple[FloatArray, FloatArray]:
        data = np.asarray(matrix, dtype=np.float64)
        if data.ndim != 2 or data.shape[1] != len(self._columns):
            raise ValueError(
                f"expected a matrix with {len(self._columns)} columns (one per feature), "
                f"got shape {data.shape}"
            )
        points = np.full(data.shape[0], float(self.intercept))
        for j, col in enumerate(self._columns):
            points += _column_points(col, data[:, j])
        return self.scale.pd_array(points), points

    def to_json(self) -> JsonObject:
        return scorecard_to_json(
            ScorecardParts(
                version=self.version,
                characteristics=self._characteristics,
                scale=self.scale,
                tiers=self.tiers,
                intercept=self.intercept,
                meta=self._meta,
            )
        )

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ScorecardModel:
        """Read and check a points table; :class:`InvalidModel` says what is wrong."""
        parts = scorecard_from_json(doc)
        return cls(
            version=parts.version,
            characteristics=parts.characteristics,
            scale=parts.scale,
            tiers=parts.tiers,
            intercept=parts.intercept,
            meta=parts.meta,
        )
