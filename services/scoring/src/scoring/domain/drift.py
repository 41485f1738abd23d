"""Population stability of a model: the development sample's bins, and drift against them.

At training time the development sample is counted into decile bins of the score and of each
characteristic (the *reference*, stored with the model). Live, the current population is
counted into the same bins: score PSI and per-characteristic PSI (CSI) follow, with empty bins
corrected rather than dropped (:func:`scoring.domain.metrics.psi_from_counts`) and missing
values in a bin of their own. JSON cannot hold infinities, so a reference stores inner edges
only; the outer bins are open-ended.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from scoring.domain.json_object import JsonObject
from scoring.domain.metrics import PsiResult, bin_counts, psi_edges, psi_from_counts
from scoring.domain.model import FloatArray, InvalidModel, ServedModel

STATUS_ORDER = ("stable", "warn", "act")


def reference_of(model: ServedModel, matrix: FloatArray, bins: int = 10) -> JsonObject:
    """The development sample's bin counts of the score and of each of ``model``'s features."""
    _, points = model.score_matrix(matrix)
    return {
        "rows": int(matrix.shape[0]),
        "score": _binned(np.rint(points), bins),
        "features": {f.name: _binned(matrix[:, i], bins) for i, f in enumerate(model.features)},
    }


def _binned(values: FloatArray, bins: int) -> JsonObject:
    edges = psi_edges(values, bins)
    return {"edges": edges[1:-1].tolist(), "counts": bin_counts(values, edges).tolist()}


def check_reference(reference: Mapping[str, Any], model: ServedModel) -> None:
    """Refuse a reference that does not describe ``model``'s score and features."""
    try:
        parts = [reference["score"], *(reference["features"][f.name] for f in model.features)]
        for part in parts:
            edges, counts = list(part["edges"]), list(part["counts"])
            if len(counts) != len(edges) + 2:
                raise InvalidModel("a reference has one count per bin plus the missing count")
    except (KeyError, TypeError) as exc:
        raise InvalidModel(f"reference lacks the score or a feature's bins: {exc}") from None


@dataclass(frozen=True)
class DriftReport:
    model_version: str
    population: int
    score: PsiResult
    characteristics: dict[str, PsiResult]

    @property
    def status(self) -> str:
        worst = max(
            [self.score.status, *(c.status for c in self.characteristics.values())],
            key=STATUS_ORDER.index,
        )
        return worst

    def drifted(self) -> dict[str, float]:
        """The characteristics beyond the warn threshold, with their CSI."""
        return {name: c.total for name, c in self.characteristics.items() if c.status != "stable"}

    def to_json(self) -> JsonObject:
        return {
            "model_version": self.model_version,
            "population": self.population,
            "status": self.status,
            "score_psi": self.score.to_json(),
            "characteristics": {n: c.to_json() for n, c in self.characteristics.items()},
        }


def drift(
    model: ServedModel,
    reference: Mapping[str, Any],
    live_scores: FloatArray,
    live_features: Mapping[str, FloatArray],
    *,
    warn: float,
    act: float,
) -> DriftReport:
    """Score PSI and CSI of the live population against the model's development sample."""
    return DriftReport(
        model_version=model.version,
        population=int(live_scores.size),
        score=_psi(reference["score"], live_scores, warn, act),
        characteristics={
            f.name: _psi(reference["features"][f.name], live_features[f.name], warn, act)
            for f in model.features
        },
    )


def _psi(part: Mapping[str, Any], live: FloatArray, warn: float, act: float) -> PsiResult:
    edges = np.r_[-np.inf, np.asarray(part["edges"], dtype=np.float64), np.inf]
    return psi_from_counts(part["counts"], bin_counts(live, edges), edges, warn=warn, act=act)
