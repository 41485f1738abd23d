"""The challenger: a gradient-boosted tree ensemble served with numpy and Python alone.

Trained by scikit-learn's ``HistGradientBoostingClassifier`` (see ``scoring.training``) and
exported into a JSON document so that the service needs no training library. Each tree is a
set of parallel node arrays; a loan's raw score is the baseline plus one leaf value per tree
and its PD the logistic sigmoid of that sum, exactly as scikit-learn computes it.

Document (``format`` 1)::

    {"kind": "gbm", "format": 1, "version": "...",
     "features": [{"name", "description", "trend", "special_codes"}, ...],
     "scale": {"base_points", "base_odds", "pdo"}, "tiers": {"upper_pd": [4 PDs]},
     "baseline": float,
     "trees": [{"feature": [int], "threshold": [float | null], "missing_go_to_left": [bool],
                "left": [int], "right": [int], "is_leaf": [bool], "value": [float]}, ...],
     "meta": {...}}

Node 0 is a tree's root. A split node sends a value to ``left`` when it is ``<= threshold``,
a missing value to ``left`` when ``missing_go_to_left``; a ``null`` threshold is +∞ (a split
that separates missing values only). A leaf's ``value`` is already scaled by the learning
rate; its feature, threshold and children are not read. ``meta`` is free-form and not read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

import numpy as np

from scoring.domain.model import (
    FeatureSpec,
    FeatureValues,
    FloatArray,
    InvalidModel,
    MonotonicTrend,
    Reason,
    Scored,
    ScoreScale,
    TierCutoffs,
)

KIND = "gbm"
FORMAT = 1
_NODE_FIELDS = ("feature", "threshold", "missing_go_to_left", "left", "right", "is_leaf", "value")


@dataclass(frozen=True)
class Tree:
    """One tree's nodes as parallel arrays (see the module docstring for their meaning).

    Every child has a larger index than its parent, as scikit-learn lays trees out depth
    first, and every node but the root has exactly one parent; :func:`parse_tree` enforces
    both, so a served tree can have neither a cycle nor a shared or unreachable node.
    """

    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    missing_go_to_left: tuple[bool, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    is_leaf: tuple[bool, ...]
    value: tuple[float, ...]

    def leaf_value(self, row: Sequence[float]) -> float:
        """The value of the leaf that one row (NaN = missing) ends in."""
        node = 0
        while not self.is_leaf[node]:
            x = row[self.feature[node]]
            if math.isnan(x):
                goes_left = self.missing_go_to_left[node]
            else:
                goes_left = x <= self.threshold[node]
            node = self.left[node] if goes_left else self.right[node]
        return self.value[node]

    def leaf_values(self, columns: FloatArray) -> FloatArray:
        """The leaf value of every row of ``columns`` (one row per feature, one column per loan).

        Rows are partitioned node by node, so each loan is compared only on its own path and
        every comparison runs over a contiguous feature array.
        """
        out = np.empty(columns.shape[1], dtype=np.float64)
        pending = [(0, np.arange(columns.shape[1]))]
        while pending:
            node, rows = pending.pop()
            if self.is_leaf[node]:
                out[rows] = self.value[node]
                continue
            x = columns[self.feature[node]][rows]
            goes_left = x <= self.threshold[node]  # False for NaN: missing is decided next
            if self.missing_go_to_left[node]:
                goes_left |= np.isnan(x)
            pending.append((self.left[node], rows[goes_left]))
            pending.append((self.right[node], rows[~goes_left]))
        return out

    def to_json(self) -> dict[str, list[Any]]:
        # JSON has no infinity: a split on missing values only keeps a null threshold.
        thresholds = [t if math.isfinite(t) else None for t in self.threshold]
        return {
            "feature": list(self.feature),
            "threshold": thresholds,
            "missing_go_to_left": list(self.missing_go_to_left),
            "left": list(self.left),
            "right": list(self.right),
            "is_leaf": list(self.is_leaf),
            "value": list(self.value),
        }


def sigmoid(raw: float) -> float:
    """Logistic function in the form that cannot overflow (as scipy's ``expit``)."""
    if raw >= 0:
        return 1.0 / (1.0 + math.exp(-raw))
    odds = math.exp(raw)
    return odds / (1.0 + odds)


def sigmoid_array(raw: FloatArray) -> FloatArray:
    odds = np.exp(-np.abs(raw))
    return np.where(raw >= 0, 1.0 / (1.0 + odds), odds / (1.0 + odds))


@dataclass(frozen=True)
class GbmModel:
    """The served challenger. It scores in shadow beside the champion scorecard, whose
    points-lost reasons are the ones a borrower sees, so its :meth:`score` gives no reasons."""

    version: str
    features: tuple[FeatureSpec, ...]
    scale: ScoreScale
    tiers: TierCutoffs
    baseline: float
    trees: tuple[Tree, ...]
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def kind(self) -> str:
        return KIND

    def raw(self, values: FeatureValues) -> float:
        """The log-odds of default of one loan; an absent or ``None`` value is missing."""
        row = [_as_float(values.get(spec.name)) for spec in self.features]
        total = self.baseline
        for tree in self.trees:
            total += tree.leaf_value(row)
        return total

    def score(self, values: FeatureValues) -> Scored:
        pd = sigmoid(self.raw(values))
        reasons: tuple[Reason, ...] = ()
        return Scored(
            pd=pd, score=round(self.scale.points(pd)), tier=self.tiers.tier(pd), reasons=reasons
        )

    def raw_matrix(self, matrix: FloatArray) -> FloatArray:
        data = np.asarray(matrix, dtype=np.float64)
        if data.ndim != 2 or data.shape[1] != len(self.features):
            raise ValueError(f"matrix must have one column per feature ({len(self.features)})")
        # Summed tree by tree in the same order as score() and scikit-learn, so the three agree
        # to the last bit rather than to a tolerance.
        columns = np.ascontiguousarray(data.T)
        total = np.full(data.shape[0], self.baseline)
        for tree in self.trees:
            total += tree.leaf_values(columns)
        return total

    def score_matrix(self, matrix: FloatArray) -> tuple[FloatArray, FloatArray]:
        """PDs and points (rounded to whole points, as :meth:`score` gives them)."""
        pd = sigmoid_array(self.raw_matrix(matrix))
        return pd, np.round(self.scale.points_array(pd))

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "format": FORMAT,
            "version": self.version,
            "features": [_feature_json(f) for f in self.features],
            "scale": {
                "base_points": self.scale.base_points,
                "base_odds": self.scale.base_odds,
                "pdo": self.scale.pdo,
            },
            "tiers": {"upper_pd": list(self.tiers.upper_pd)},
            "baseline": self.baseline,
            "trees": [t.to_json() for t in self.trees],
            "meta": dict(self.meta),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> GbmModel:
        """The model a document describes; :class:`InvalidModel` says what is wrong with it."""
        doc = _mapping(doc, "the document")
        if doc.get("kind") != KIND:
            raise InvalidModel(f"kind must be {KIND!r}, not {doc.get('kind')!r}")
        if doc.get("format") != FORMAT:
            raise InvalidModel(f"format {doc.get('format')!r} is not supported (only {FORMAT})")
        features = _features(doc.get("features"))
        trees = _sequence(doc.get("trees"), "trees")
        if not trees:
            raise InvalidModel("trees must not be empty")
        return cls(
            version=_text(doc.get("version"), "version"),
            features=features,
            scale=_scale(doc.get("scale")),
            tiers=_tiers(doc.get("tiers")),
            baseline=_number(doc.get("baseline"), "baseline"),
            trees=tuple(parse_tree(t, len(features), f"tree {i}") for i, t in enumerate(trees)),
            meta=dict(_mapping(doc.get("meta", {}), "meta")),
        )


def _as_float(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _feature_json(spec: FeatureSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "description": spec.description,
        "trend": spec.trend,
        "special_codes": list(spec.special_codes),
    }


def parse_tree(raw: Any, n_features: int, where: str) -> Tree:
    """A tree from its document, checked node by node (``where`` names it in messages)."""
    nodes = _mapping(raw, where)
    missing = [name for name in _NODE_FIELDS if name not in nodes]
    if missing:
        raise InvalidModel(f"{where} lacks {', '.join(missing)}")
    columns = {name: _sequence(nodes[name], f"{where} {name}") for name in _NODE_FIELDS}
    size = len(columns["value"])
    if size == 0 or any(len(c) != size for c in columns.values()):
        raise InvalidModel(f"{where}: node arrays must be non-empty and of equal length")
    tree = Tree(
        feature=tuple(_integer(v, f"{where} feature") for v in columns["feature"]),
        threshold=tuple(_threshold(v, f"{where} threshold") for v in columns["threshold"]),
        missing_go_to_left=tuple(
            _flag(v, f"{where} missing_go_to_left") for v in columns["missing_go_to_left"]
        ),
        left=tuple(_integer(v, f"{where} left") for v in columns["left"]),
        right=tuple(_integer(v, f"{where} right") for v in columns["right"]),
        is_leaf=tuple(_flag(v, f"{where} is_leaf") for v in columns["is_leaf"]),
        value=tuple(_number(v, f"{where} value") for v in columns["value"]),
    )
    _check_structure(tree, n_features, where)
    return tree


def _check_structure(tree: Tree, n_features: int, where: str) -> None:
    size = len(tree.value)
    parents = [0] * size
    for node in range(size):
        if tree.is_leaf[node]:
            continue
        if not 0 <= tree.feature[node] < n_features:
            raise InvalidModel(f"{where} node {node}: feature {tree.feature[node]} out of range")
        for child in (tree.left[node], tree.right[node]):
            if not node < child < size:
                raise InvalidModel(
                    f"{where} node {node}: child {child} must lie in ({node}, {size})"
                )
            parents[child] += 1
    orphans = [n for n in range(1, size) if parents[n] != 1]
    if orphans:
        raise InvalidModel(f"{where}: node {orphans[0]} must have exactly one parent")


def _features(raw: Any) -> tuple[FeatureSpec, ...]:
    items = _sequence(raw, "features")
    specs = tuple(_feature(item, i) for i, item in enumerate(items))
    names = [s.name for s in specs]
    if not specs or len(set(names)) != len(names):
        raise InvalidModel("features must be a non-empty list of distinct names")
    return specs


def _feature(raw: Any, index: int) -> FeatureSpec:
    where = f"feature {index}"
    item = _mapping(raw, where)
    trend = item.get("trend", "auto")
    if trend not in get_args(MonotonicTrend):
        raise InvalidModel(f"{where}: trend {trend!r} is not one of {get_args(MonotonicTrend)}")
    codes = _sequence(item.get("special_codes", []), f"{where} special_codes")
    return FeatureSpec(
        name=_text(item.get("name"), f"{where} name"),
        description=_text(item.get("description", ""), f"{where} description", empty=True),
        trend=trend,
        special_codes=tuple(_number(c, f"{where} special code") for c in codes),
    )


def _scale(raw: Any) -> ScoreScale:
    item = _mapping(raw, "scale")
    scale = ScoreScale(
        base_points=_number(item.get("base_points"), "scale base_points"),
        base_odds=_number(item.get("base_odds"), "scale base_odds"),
        pdo=_number(item.get("pdo"), "scale pdo"),
    )
    if scale.base_odds <= 0 or scale.pdo <= 0:
        raise InvalidModel("scale base_odds and pdo must be positive")
    return scale


def _tiers(raw: Any) -> TierCutoffs:
    bounds = _sequence(_mapping(raw, "tiers").get("upper_pd"), "tiers upper_pd")
    values = [_number(b, "tiers upper_pd") for b in bounds]
    if len(values) != 4:
        raise InvalidModel("tiers upper_pd must hold the upper PDs of tiers A–D")
    try:
        return TierCutoffs((values[0], values[1], values[2], values[3]))
    except ValueError as error:
        raise InvalidModel(str(error)) from error


def _mapping(raw: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise InvalidModel(f"{what} must be an object")
    return raw


def _sequence(raw: Any, what: str) -> Sequence[Any]:
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise InvalidModel(f"{what} must be a list")
    return raw


def _text(raw: Any, what: str, *, empty: bool = False) -> str:
    if not isinstance(raw, str) or not (raw or empty):
        raise InvalidModel(f"{what} must be a{'' if empty else ' non-empty'} string")
    return raw


def _number(raw: Any, what: str) -> float:
    # bool is an int to Python but never a number in a model document.
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise InvalidModel(f"{what} must be a finite number, not {raw!r}")
    return float(raw)


def _threshold(raw: Any, what: str) -> float:
    return math.inf if raw is None else _number(raw, what)


def _integer(raw: Any, what: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise InvalidModel(f"{what} must be an integer, not {raw!r}")
    return raw


def _flag(raw: Any, what: str) -> bool:
    if not isinstance(raw, bool):
        raise InvalidModel(f"{what} must be true or false, not {raw!r}")
    return raw
