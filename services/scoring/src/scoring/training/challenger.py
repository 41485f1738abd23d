"""Training the challenger: a monotone gradient-boosted tree ensemble, exported for serving.

The challenger uses the **numeric** columns among the model's features only (booleans count as
numeric); a feature whose column holds text or categories is left out and named in the
document's ``meta.ignored_features``, because the served model takes floats and the trees
need no encoding that the live feature computation would have to repeat. The fitted trees
are exported into a :class:`GbmModel` and checked against scikit-learn before they are
returned, so what the service serves is exactly what was trained.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped, unused-ignore]
import sklearn  # type: ignore[import-untyped, unused-ignore]
from sklearn.ensemble import (  # type: ignore[import-untyped, unused-ignore]
    HistGradientBoostingClassifier,
)

from scoring.domain.gbm import GbmModel, Tree
from scoring.domain.json_object import JsonObject
from scoring.domain.model import FeatureSpec, FloatArray, ScoreScale, TierCutoffs

# Slow learning with many small trees, strong L2 shrinkage of leaf values and half the
# features offered at each split (the seed fixes which). Chosen by 5-fold CV on Give Me Some
# Credit, where the monotone constraints cost about 0.001 of AUC and this recovers it. Early
# stopping is off so that a seed fixes the model.
PARAMS: JsonObject = {
    "learning_rate": 0.05,
    "max_iter": 300,
    "max_leaf_nodes": 16,
    "l2_regularization": 30.0,
    "max_features": 0.5,
    "max_bins": 255,
    "early_stopping": False,
}
# Leaves of at least this share of the rows (and never under MIN_LEAF_ROWS), so that a leaf's
# bad rate rests on enough loans whatever the size of the sample.
MIN_LEAF_SHARE = 0.001
MIN_LEAF_ROWS = 20
TREND_CONSTRAINT = {"ascending": 1, "descending": -1, "auto": 0}
EXPORT_TOLERANCE = 1e-9
_ROWS_CHECKED_ONE_BY_ONE = 50


class ExportMismatch(RuntimeError):
    """The exported trees do not reproduce scikit-learn's probabilities."""


def numeric_features(frame: pd.DataFrame, features: Sequence[FeatureSpec]) -> list[FeatureSpec]:
    """The features whose column in ``frame`` is numeric and takes at least two values (an
    always-missing column breaks scikit-learn's binning), in the given order."""
    absent = [f.name for f in features if f.name not in frame.columns]
    if absent:
        raise ValueError(f"the frame lacks feature columns: {', '.join(absent)}")
    return [
        f
        for f in features
        if pd.api.types.is_numeric_dtype(frame[f.name]) and frame[f.name].nunique() >= 2
    ]


def monotonic_constraint(spec: FeatureSpec) -> int:
    """+1/−1 for an expected rising/falling default rate, 0 to let the data decide.

    A feature with special codes is left unconstrained: its codes (e.g. 96 = "not reported")
    carry a risk of their own, and a constraint would force them into the numeric trend.
    """
    return 0 if spec.special_codes else TREND_CONSTRAINT[spec.trend]


def train_challenger(
    frame: pd.DataFrame,
    target: npt.NDArray[Any],
    features: Sequence[FeatureSpec],
    *,
    version: str,
    seed: int,
    scale: ScoreScale,
    tiers: TierCutoffs,
) -> GbmModel:
    """Fit the challenger on ``frame`` (one row per loan) and ``target`` (1 = default)."""
    used = numeric_features(frame, features)
    if not used:
        raise ValueError("the challenger needs at least one numeric feature")
    matrix = frame[[f.name for f in used]].to_numpy(dtype=np.float64, na_value=np.nan)
    outcomes = _outcomes(target, len(frame))
    classifier = build_classifier(used, seed=seed, rows=len(frame))
    classifier.fit(matrix, outcomes)
    ignored = [f.name for f in features if f not in used]
    model = export_classifier(
        classifier,
        used,
        version=version,
        scale=scale,
        tiers=tiers,
        meta=_meta(classifier, used, ignored, outcomes),
    )
    verify_export(model, classifier, matrix)
    return model


def build_classifier(used: Sequence[FeatureSpec], *, seed: int, rows: int) -> Any:
    """The unfitted challenger for ``rows`` loans with the ``used`` features as its columns."""
    return HistGradientBoostingClassifier(
        **PARAMS,
        min_samples_leaf=max(MIN_LEAF_ROWS, int(rows * MIN_LEAF_SHARE)),
        monotonic_cst=[monotonic_constraint(f) for f in used],
        categorical_features=None,
        random_state=seed,
    )


def export_classifier(
    classifier: Any,
    used: Sequence[FeatureSpec],
    *,
    version: str,
    scale: ScoreScale,
    tiers: TierCutoffs,
    meta: Mapping[str, Any],
) -> GbmModel:
    """A fitted binary ``HistGradientBoostingClassifier`` (columns = ``used``) as a served model."""
    if list(classifier.classes_) != [0, 1]:
        raise ExportMismatch(f"classes must be 0 and 1, not {list(classifier.classes_)}")
    return GbmModel(
        version=version,
        features=tuple(used),
        scale=scale,
        tiers=tiers,
        baseline=float(np.ravel(classifier._baseline_prediction)[0]),
        trees=_export_trees(classifier),
        meta=meta,
    )


def _outcomes(target: npt.NDArray[Any], rows: int) -> npt.NDArray[np.int64]:
    outcomes = np.asarray(target)
    if outcomes.shape != (rows,):
        raise ValueError(f"target must hold one outcome per row ({rows}), not {outcomes.shape}")
    if not np.isin(outcomes, (0, 1)).all() or np.unique(outcomes).size != 2:
        raise ValueError("target must hold both 0 (good) and 1 (default), and nothing else")
    return outcomes.astype(np.int64)


def _export_trees(classifier: Any) -> tuple[Tree, ...]:
    # A binary classifier grows one tree per iteration, scaled by the learning rate already.
    return tuple(_export_tree(predictor.nodes) for (predictor,) in classifier._predictors)


def _export_tree(nodes: Any) -> Tree:
    if nodes["is_categorical"].any():
        raise ExportMismatch("categorical splits cannot be exported; the challenger is numeric")
    return Tree(
        feature=tuple(int(v) for v in nodes["feature_idx"]),
        threshold=tuple(float(v) for v in nodes["num_threshold"]),
        missing_go_to_left=tuple(bool(v) for v in nodes["missing_go_to_left"]),
        left=tuple(int(v) for v in nodes["left"]),
        right=tuple(int(v) for v in nodes["right"]),
        is_leaf=tuple(bool(v) for v in nodes["is_leaf"]),
        value=tuple(float(v) for v in nodes["value"]),
    )


def _meta(
    classifier: Any,
    used: Sequence[FeatureSpec],
    ignored: list[str],
    outcomes: npt.NDArray[np.int64],
) -> JsonObject:
    return {
        "trainer": f"scikit-learn {sklearn.__version__} HistGradientBoostingClassifier",
        "params": {**PARAMS, "min_samples_leaf": classifier.min_samples_leaf},
        "monotonic_cst": [monotonic_constraint(f) for f in used],
        "ignored_features": ignored,
        "iterations": int(classifier.n_iter_),
        "rows": int(outcomes.size),
        "default_rate": float(outcomes.mean()),
    }


def verify_export(model: GbmModel, classifier: Any, matrix: FloatArray) -> None:
    """Refuse an export whose PDs differ from ``predict_proba``, in bulk and one by one."""
    expected = classifier.predict_proba(matrix)[:, 1]
    served, _ = model.score_matrix(matrix)
    worst = float(np.max(np.abs(served - expected)))
    if worst > EXPORT_TOLERANCE:
        raise ExportMismatch(f"served PDs differ from scikit-learn's by up to {worst:.3g}")
    names = [f.name for f in model.features]
    for row, want in zip(matrix[:_ROWS_CHECKED_ONE_BY_ONE], expected, strict=False):
        got = model.score(dict(zip(names, (float(v) for v in row), strict=True))).pd
        if abs(got - want) > EXPORT_TOLERANCE:
            raise ExportMismatch(f"a single loan's PD {got} differs from scikit-learn's {want}")
