import copy
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from scoring.domain.model import (
    FeatureSpec,
    InvalidModel,
    Reason,
    ScoreScale,
    TierCutoffs,
)
from scoring.domain.scorecard import Characteristic, ScorecardModel, SpecialBin

DPD = FeatureSpec("dpd_max", "Worst days past due", "ascending", (98.0,))
UTIL = FeatureSpec("utilisation", "Share of the limit in use", "ascending")
PURPOSE = FeatureSpec("purpose", "Purpose of the loan")
AGE = FeatureSpec("age", "Age of the borrower", "descending")


def make_scorecard(*, intercept: int = 100, age_missing_points: int = 20) -> ScorecardModel:
    return ScorecardModel(
        version="unit-1",
        characteristics=[
            Characteristic(
                DPD, points=(60, 40, 10), edges=(1.0, 30.0), special=(SpecialBin((98.0,), 5),)
            ),
            Characteristic(UTIL, points=(50, 35, 20), edges=(0.3, 0.8), missing_points=25),
            Characteristic(
                PURPOSE,
                points=(45, 30, 15),
                categories=((0.0, 2.0), (1.0,), (3.0,)),
                labels=(("car", "home"), ("cash",), ("other",)),
                missing_points=20,
            ),
            Characteristic(AGE, points=(20, 40), edges=(25.0,), missing_points=age_missing_points),
        ],
        scale=ScoreScale(),
        tiers=TierCutoffs(),
        intercept=intercept,
    )


BEST = {"dpd_max": 0.0, "utilisation": 0.1, "purpose": 0.0, "age": 40.0}


def test_a_points_table_survives_a_json_round_trip() -> None:
    model = make_scorecard()
    document = json.loads(json.dumps(model.to_json()))
    again = ScorecardModel.from_json(document)
    assert again.to_json() == model.to_json()
    assert again.score({"dpd_max": 35.0, "age": 20.0}) == model.score(
        {"dpd_max": 35.0, "age": 20.0}
    )


def test_the_document_spells_infinite_edges_as_strings() -> None:
    bins = make_scorecard().to_json()["features"][0]["bins"]
    assert bins == [
        {"lower": "-inf", "upper": 1.0, "points": 60},
        {"lower": 1.0, "upper": 30.0, "points": 40},
        {"lower": 30.0, "upper": "inf", "points": 10},
    ]


@pytest.mark.parametrize(
    ("value", "points"),
    [
        (-5.0, 60),
        (0.999, 60),
        (1.0, 40),  # a value on a cut point belongs to the upper bin
        (29.9, 40),
        (30.0, 10),
        (math.inf, 10),
        (98.0, 5),  # the special code, not the [30, inf) interval
        (None, 0),
        (math.nan, 0),
    ],
)
def test_a_value_earns_the_points_of_its_bin(value: float | None, points: int) -> None:
    assert make_scorecard().points({**BEST, "dpd_max": value})[0] == points


def test_an_absent_feature_scores_as_missing() -> None:
    values = {k: v for k, v in BEST.items() if k != "utilisation"}
    assert make_scorecard().points(values)[1] == 25


@pytest.mark.parametrize(("code", "points"), [(0.0, 45), (2.0, 45), (1.0, 30), (3.0, 15)])
def test_a_category_earns_the_points_of_its_group(code: float, points: int) -> None:
    assert make_scorecard().points({**BEST, "purpose": code})[2] == points


def test_an_unseen_category_scores_like_a_missing_value() -> None:
    assert make_scorecard().points({**BEST, "purpose": 7.0})[2] == 20


def test_the_score_is_the_intercept_plus_the_points_of_every_characteristic() -> None:
    scored = make_scorecard(intercept=100).score(BEST)
    assert scored.score == 100 + 60 + 50 + 45 + 40
    assert scored.pd == pytest.approx(ScoreScale().pd(295))


def test_reasons_rank_the_points_lost_against_each_characteristics_maximum() -> None:
    values = {"dpd_max": 35.0, "utilisation": 0.9, "purpose": 3.0, "age": 20.0}
    assert make_scorecard().score(values).reasons == (
        Reason("DPD_MAX", "Worst days past due", 50),
        # utilisation and purpose both lose 30: the earlier feature comes first
        Reason("UTILISATION", "Share of the limit in use", 30),
        Reason("PURPOSE", "Purpose of the loan", 30),
        Reason("AGE", "Age of the borrower", 20),
    )


def test_a_loan_at_every_maximum_has_no_reasons() -> None:
    assert make_scorecard().score(BEST).reasons == ()


def test_at_most_four_reasons_are_given() -> None:
    model = make_scorecard()
    worst = {"dpd_max": 98.0, "utilisation": 0.9, "purpose": 3.0, "age": 20.0}
    assert [r.code for r in model.score(worst).reasons] == [
        "DPD_MAX",
        "UTILISATION",
        "PURPOSE",
        "AGE",
    ]


def test_the_maximum_includes_the_missing_bin() -> None:
    # Age's Missing bin awards 45, more than either interval: a known age of 40 loses 5.
    scored = make_scorecard(age_missing_points=45).score(BEST)
    assert scored.reasons == (Reason("AGE", "Age of the borrower", 5),)


@pytest.mark.parametrize(
    ("points", "tier"),
    [(700, "A"), (600, "B"), (560, "C"), (540, "D"), (500, "E")],
)
def test_the_tier_follows_the_pd_of_the_points(points: int, tier: str) -> None:
    # Default scale: 600 points is odds 50:1 (PD 1.96 %), every 20 points halves/doubles it.
    model = make_scorecard(intercept=points - 195)
    scored = model.score(BEST)
    assert scored.score == points
    assert scored.tier == tier
    assert scored.tier == TierCutoffs().tier(ScoreScale().pd(points))


def test_score_matrix_agrees_with_score_loan_by_loan() -> None:
    model = make_scorecard()
    rng = np.random.default_rng(3)
    n = 2_000
    matrix = np.column_stack(
        [
            rng.choice([0.0, 0.5, 1.0, 12.0, 30.0, 45.0, 98.0, np.nan], n),
            rng.choice([0.0, 0.3, 0.5, 0.8, 1.2, np.nan], n),
            rng.choice([0.0, 1.0, 2.0, 3.0, 9.0, np.nan], n),
            rng.choice([18.0, 25.0, 24.999, 60.0, np.nan], n),
        ]
    )
    pd, points = model.score_matrix(matrix)
    names = [f.name for f in model.features]
    for row, row_pd, row_points in zip(matrix, pd, points, strict=True):
        scored = model.score(dict(zip(names, row.tolist(), strict=True)))
        assert scored.score == row_points
        assert scored.pd == pytest.approx(row_pd, rel=1e-12)


def test_score_matrix_refuses_a_matrix_of_the_wrong_width() -> None:
    with pytest.raises(ValueError, match="4 columns"):
        make_scorecard().score_matrix(np.zeros((3, 5)))


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target: Any = doc
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            target[int(last)] = value
        elif value is ...:
            del target[last]
        else:
            target[last] = value

    return change


INVALID = {
    "unknown kind": (_set("kind", "neural"), "not a scorecard: kind is 'neural'"),
    "version missing": (_set("version", ...), "'version' is missing"),
    "empty version": (_set("version", " "), "version is empty"),
    "unknown format": (_set("format", 2), "format 2 is not supported"),
    "features missing": (_set("features", ...), "'features' is missing"),
    "no features": (_set("features", []), "features is empty"),
    "decreasing bins": (
        _set("features/0/bins/1/upper", 0.5),
        r"features\[0\] \(dpd_max\): bin 1 is empty or reversed",
    ),
    "gap between bins": (_set("features/0/bins/2/lower", 31.0), "bins must be contiguous"),
    "open lower end": (_set("features/0/bins/0/lower", 0.0), "must run from '-inf' to 'inf'"),
    "fractional points": (
        _set("features/1/bins/0/points", 50.5),
        r"bins\[0\]\.points must be an integer, got 50.5",
    ),
    "boolean points": (_set("features/1/missing_points", True), "must be an integer"),
    "special code without bin": (_set("features/0/special", []), "declares \\[98.0\\]"),
    "category in two bins": (
        _set("features/2/bins/1/categories", [1.0, 2.0]),
        "appears in more than one bin",
    ),
    "labels out of step": (_set("features/2/bins/0/labels", ["car"]), "labels must match"),
    "unknown feature type": (_set("features/3/type", "text"), "must be 'numerical' or"),
    "unknown trend": (_set("features/3/trend", "up"), "trend must be one of"),
    "bad tiers": (_set("tiers/upper_pd", [0.2, 0.1, 0.3, 0.4]), "four increasing PDs"),
    "negative pdo": (_set("scale/pdo", -20), "base_odds and pdo must be positive"),
    "text edge": (_set("features/1/bins/0/upper", "0.3"), "must be a finite number"),
    "fractional intercept": (_set("intercept", 1.5), "intercept must be an integer"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_an_invalid_points_table_is_refused_with_a_reason(case: str) -> None:
    change, message = INVALID[case]
    document = copy.deepcopy(make_scorecard().to_json())
    change(document)
    with pytest.raises(InvalidModel, match=message):
        ScorecardModel.from_json(document)


def test_a_duplicate_feature_is_refused() -> None:
    document = make_scorecard().to_json()
    document["features"].append(copy.deepcopy(document["features"][0]))
    with pytest.raises(InvalidModel, match="a feature appears twice"):
        ScorecardModel.from_json(document)


def test_a_document_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidModel, match="must be an object"):
        ScorecardModel.from_json([])  # type: ignore[arg-type]
