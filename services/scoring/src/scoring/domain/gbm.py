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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from scoring.domain import documents
from scoring.domain.json_object import JsonObject
from scoring.domain.model import (
    FeatureSpec,
    FeatureValues,
    FloatArray,
    InvalidModel,
    Scored,
    ScoreScale,
    TierCutoffs,
)

KIND = "gbm"
FORMAT = 1
_T = TypeVar("_T")
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
        return Scored(
            pd=pd, score=round(self.scale.points(pd)), tier=self.tiers.tier(pd), reasons=()
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

    def to_json(self) -> JsonObject:
        return {
            **documents.header_to_json(KIND, FORMAT, self.version),
            "features": [documents.feature_to_json(f) for f in self.features],
            "scale": documents.scale_to_json(self.scale),
            "tiers": documents.tiers_to_json(self.tiers),
            "baseline": self.baseline,
            "trees": [t.to_json() for t in self.trees],
            "meta": dict(self.meta),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> GbmModel:
        """The model a document describes; :class:`InvalidModel` says what is wrong with it."""
        top, version = documents.read_header(doc, KIND, FORMAT)
        features = tuple(documents.feature_from_json(item) for item in top.objects("features"))
        names = [f.name for f in features]
        if not features or len(set(names)) != len(names):
            raise InvalidModel(
                f"{top.path_of('features')} must be a non-empty list of distinct names"
            )
        trees = top.values("trees")
        if not trees:
            raise InvalidModel(f"{top.path_of('trees')} must not be empty")
        where = top.path_of("trees")
        return cls(
            version=version,
            features=features,
            scale=documents.scale_from_json(top.object("scale")),
            tiers=documents.tiers_from_json(top.object("tiers")),
            baseline=top.number("baseline"),
            trees=tuple(parse_tree(t, len(features), f"{where}[{i}]") for i, t in enumerate(trees)),
            meta=dict(top.object("meta", {}).fields),
        )


def _as_float(value: float | None) -> float:
    return math.nan if value is None else float(value)


def parse_tree(raw: Any, n_features: int, where: str) -> Tree:
    """A tree from its document, checked node by node (``where`` is its path in messages)."""
    nodes = documents.as_object(raw, where)
    missing = [name for name in _NODE_FIELDS if name not in nodes]
    if missing:
        raise InvalidModel(f"{where} lacks {', '.join(missing)}")
    columns = {name: documents.as_list(nodes[name], f"{where}.{name}") for name in _NODE_FIELDS}
    size = len(columns["value"])
    if size == 0 or any(len(c) != size for c in columns.values()):
        raise InvalidModel(f"{where}: node arrays must be non-empty and of equal length")

    def column(name: str, read: Callable[[Any, str], _T]) -> tuple[_T, ...]:
        return tuple(read(v, f"{where}.{name}[{i}]") for i, v in enumerate(columns[name]))

    tree = Tree(
        feature=column("feature", documents.as_integer),
        threshold=column("threshold", _threshold),
        missing_go_to_left=column("missing_go_to_left", documents.as_flag),
        left=column("left", documents.as_integer),
        right=column("right", documents.as_integer),
        is_leaf=column("is_leaf", documents.as_flag),
        value=column("value", documents.as_number),
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


def _threshold(raw: Any, path: str) -> float:
    return math.inf if raw is None else documents.as_number(raw, path)
