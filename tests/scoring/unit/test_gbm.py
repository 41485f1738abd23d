"""The challenger: trained with scikit-learn, served from its JSON document with numpy alone."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped, unused-ignore]
import pytest
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped, unused-ignore]

from scoring.domain.gbm import GbmModel
from scoring.domain.model import FeatureSpec, FloatArray, InvalidModel, ScoreScale, TierCutoffs
from scoring.training.challenger import (
    build_classifier,
    export_classifier,
    monotonic_constraint,
    train_challenger,
)

FEATURES = (
    FeatureSpec("dpd_now", "Days past due now", "ascending"),
    FeatureSpec("paid_to_due_3", "Share paid on the last 3 instalments", "descending"),
    FeatureSpec("months_on_book", "Months since disbursement", "auto"),
    FeatureSpec("bureau_score", "Bureau score", "auto"),
)
PRODUCT = FeatureSpec("product", "Product name", "auto")
SCALE = ScoreScale()
TIERS = TierCutoffs()


def make_frame(*, seed: int, rows: int) -> tuple[Any, npt.NDArray[np.int64]]:
    """Loans whose default odds follow the features' trends, with missing values and a text
    column the challenger has to leave out."""
    rng = np.random.default_rng(seed)
    dpd = rng.poisson(3.0, rows).astype(np.float64)
    paid = rng.uniform(0.0, 1.0, rows)
    months = rng.integers(1, 36, rows).astype(np.float64)
    bureau = rng.normal(650.0, 60.0, rows)
    logit = -2.5 + 0.35 * dpd - 2.0 * paid + 0.02 * months - 0.01 * (bureau - 650.0)
    target = (rng.random(rows) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    paid[rng.random(rows) < 0.15] = np.nan
    bureau[rng.random(rows) < 0.25] = np.nan
    frame = pd.DataFrame(
        {
            "dpd_now": dpd,
            "paid_to_due_3": paid,
            "months_on_book": months,
            "bureau_score": bureau,
            "product": rng.choice(["cash", "card"], rows),
        }
    )
    return frame, target


def matrix_of(frame: Any) -> FloatArray:
    # A copy: pandas' copy-on-write hands out read-only views, and tests punch holes in it.
    return np.array(frame[[f.name for f in FEATURES]].to_numpy(dtype=np.float64))


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """OpenMP threads spin-wait for each other: on a busy two-core machine one fits ten times
    faster than two."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture(scope="module")
def training() -> tuple[Any, npt.NDArray[np.int64]]:
    return make_frame(seed=1, rows=4_000)


@pytest.fixture(scope="module")
def model(training: tuple[Any, npt.NDArray[np.int64]]) -> GbmModel:
    frame, target = training
    return train_challenger(
        frame, target, (*FEATURES, PRODUCT), version="gbm-test", seed=7, scale=SCALE, tiers=TIERS
    )


@pytest.fixture(scope="module")
def fresh() -> FloatArray:
    """Unseen loans, with missing values also where training had none (dpd_now)."""
    frame, _ = make_frame(seed=2, rows=2_000)
    matrix = matrix_of(frame)
    matrix[::7, 0] = np.nan
    return matrix


def test_served_pd_equals_predict_proba(
    training: tuple[Any, npt.NDArray[np.int64]], fresh: FloatArray
) -> None:
    frame, target = training
    classifier = build_classifier(FEATURES, seed=3, rows=len(frame))
    classifier.fit(matrix_of(frame), target)
    served = export_classifier(classifier, FEATURES, version="v", scale=SCALE, tiers=TIERS, meta={})

    for matrix in (matrix_of(frame), fresh):
        pd_served, _ = served.score_matrix(matrix)
        np.testing.assert_allclose(
            pd_served, classifier.predict_proba(matrix)[:, 1], atol=1e-9, rtol=0
        )


def test_challenger_uses_the_numeric_columns_only_and_says_which_it_left_out(
    model: GbmModel,
) -> None:
    assert model.kind == "gbm"
    assert model.features == FEATURES
    assert model.meta["ignored_features"] == ["product"]
    assert model.meta["monotonic_cst"] == [1, -1, 0, 0]


def test_score_of_one_loan_equals_its_row_of_score_matrix(
    model: GbmModel, fresh: FloatArray
) -> None:
    pds, points = model.score_matrix(fresh[:200])

    for row, pd_row, points_row in zip(fresh[:200], pds, points, strict=True):
        values = {
            f.name: (None if math.isnan(v) else float(v))
            for f, v in zip(FEATURES, row, strict=True)
        }
        scored = model.score(values)
        assert scored.pd == pytest.approx(float(pd_row), rel=1e-13)
        assert scored.score == int(points_row)
        assert scored.tier == TIERS.tier(scored.pd)
        assert scored.reasons == ()


def test_an_absent_feature_is_scored_as_missing(model: GbmModel) -> None:
    values = {"dpd_now": 2.0, "paid_to_due_3": 0.5, "months_on_book": 12.0}

    assert model.score(values) == model.score({**values, "bureau_score": None})


@pytest.mark.parametrize(("column", "direction"), [(0, 1), (1, -1)])
def test_pd_follows_the_features_expected_trend(
    model: GbmModel, fresh: FloatArray, column: int, direction: int
) -> None:
    grid = np.linspace(np.nanmin(fresh[:, column]), np.nanmax(fresh[:, column]), 60)
    for base in fresh[:25]:
        rows = np.repeat(base[None, :], grid.size, axis=0)
        rows[:, column] = grid
        pds, _ = model.score_matrix(rows)
        assert (direction * np.diff(pds) >= 0).all()


def test_features_with_special_codes_are_left_unconstrained() -> None:
    coded = FeatureSpec("past_due_30", "Times 30+ days past due", "ascending", (96.0, 98.0))

    assert monotonic_constraint(coded) == 0
    assert monotonic_constraint(FeatureSpec("x", "", "descending")) == -1


def test_document_round_trips_through_json_without_a_change(
    model: GbmModel, fresh: FloatArray
) -> None:
    text = json.dumps(model.to_json(), allow_nan=False)

    restored = GbmModel.from_json(json.loads(text))

    assert restored.to_json() == model.to_json()
    assert restored == model
    assert np.array_equal(restored.score_matrix(fresh)[0], model.score_matrix(fresh)[0])


def test_training_refuses_a_target_with_one_class(
    training: tuple[Any, npt.NDArray[np.int64]],
) -> None:
    frame, target = training

    with pytest.raises(ValueError, match="both 0"):
        train_challenger(
            frame, np.zeros_like(target), FEATURES, version="v", seed=1, scale=SCALE, tiers=TIERS
        )


def test_score_matrix_refuses_a_matrix_of_other_features(model: GbmModel) -> None:
    with pytest.raises(ValueError, match="one column per feature"):
        model.score_matrix(np.zeros((3, 2)))


def make_document(**overrides: Any) -> dict[str, Any]:
    """A one-tree model: non-missing ``x`` (even +inf) goes left (−1), missing goes right (+1)."""
    doc: dict[str, Any] = {
        "kind": "gbm",
        "format": 1,
        "version": "hand-made",
        "features": [{"name": "x", "description": "", "trend": "auto", "special_codes": []}],
        "scale": {"base_points": 600.0, "base_odds": 50.0, "pdo": 20.0},
        "tiers": {"upper_pd": [0.01, 0.03, 0.08, 0.2]},
        "baseline": 0.5,
        "trees": [
            {
                "feature": [0, 0, 0],
                "threshold": [None, 0.0, 0.0],
                "missing_go_to_left": [False, False, False],
                "left": [1, 0, 0],
                "right": [2, 0, 0],
                "is_leaf": [False, True, True],
                "value": [0.0, -1.0, 1.0],
            }
        ],
    }
    doc.update(overrides)
    return doc


def test_a_null_threshold_separates_missing_values_only() -> None:
    served = GbmModel.from_json(make_document())

    assert served.raw({"x": 1e300}) == -0.5
    assert served.raw({"x": math.inf}) == -0.5
    assert served.raw({"x": None}) == 1.5
    assert served.score_matrix(np.array([[math.inf], [math.nan]]))[0] == pytest.approx(
        [1 / (1 + math.exp(0.5)), 1 / (1 + math.exp(-1.5))]
    )


def with_tree(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    doc = make_document()
    tree = copy.deepcopy(doc["trees"][0])
    change(tree)
    doc["trees"] = [tree]
    return doc


def set_node(field: str, index: int, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(tree: dict[str, Any]) -> None:
        tree[field][index] = value

    return change


INVALID = {
    "wrong kind": (make_document(kind="scorecard"), "not a gbm: kind is 'scorecard'"),
    "unknown format": (make_document(format=2), "format 2"),
    "no version": (make_document(version=""), "version is empty"),
    "no features": (make_document(features=[]), "non-empty list of distinct names"),
    "same feature twice": (
        make_document(features=[{"name": "x"}, {"name": "x"}]),
        "distinct names",
    ),
    "unknown trend": (
        make_document(features=[{"name": "x", "trend": "up"}]),
        "trend must be one of",
    ),
    "no trees": (make_document(trees=[]), "trees must not be empty"),
    "trees not a list": (make_document(trees="many"), "trees must be a list"),
    "bad scale": (
        make_document(scale={"base_points": 600, "base_odds": 0, "pdo": 20}),
        "must be positive",
    ),
    "bad tiers": (make_document(tiers={"upper_pd": [0.3, 0.2, 0.1, 0.05]}), "tier cut-offs"),
    "three tiers": (make_document(tiers={"upper_pd": [0.1, 0.2, 0.3]}), "tiers A–D"),
    "baseline not finite": (make_document(baseline=math.nan), "baseline must be a finite"),
    "feature out of range": (with_tree(set_node("feature", 0, 1)), "feature 1 out of range"),
    "child out of range": (with_tree(set_node("right", 0, 3)), "child 3 must lie in"),
    "child before its parent": (with_tree(set_node("left", 0, 0)), "child 0 must lie in"),
    "node with two parents": (with_tree(set_node("right", 0, 1)), "exactly one parent"),
    "leaf value not a number": (with_tree(set_node("value", 1, "1.0")), "finite number"),
    "flag not a boolean": (with_tree(set_node("is_leaf", 1, 1)), "true or false"),
    "index not an integer": (with_tree(set_node("left", 0, 1.0)), "must be an integer"),
    "arrays of unequal length": (
        with_tree(lambda tree: tree["value"].append(0.0)),
        "equal length",
    ),
    "node field absent": (with_tree(lambda tree: tree.pop("missing_go_to_left")), "lacks"),
    "not an object": (make_document(trees=[[1, 2]]), r"trees\[0\] must be an object"),
}


@pytest.mark.parametrize(("doc", "message"), INVALID.values(), ids=INVALID.keys())
def test_invalid_documents_are_refused_with_a_reason(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidModel, match=message):
        GbmModel.from_json(doc)
