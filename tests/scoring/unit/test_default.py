"""A loan at or past its model's default definition is in default: PD 1, tier E, IN_DEFAULT."""

from __future__ import annotations

import numpy as np

from scoring.domain.default import (
    CODE,
    default_definition,
    default_dpd,
    score_or_default,
    scores_and_tiers_of,
)
from scoring.domain.features import BEHAVIOUR_FEATURES
from scoring.domain.model import FeatureSpec, ScoreScale, TierCutoffs
from scoring.domain.scorecard import Characteristic, ScorecardModel

DPD = FeatureSpec("dpd_now", "Days past due now", "ascending")


def make_model(*, meta: dict[str, object] | None = None) -> ScorecardModel:
    """A one-characteristic scorecard on DPD that never leaves tier A on its own."""
    return ScorecardModel(
        version="t-1",
        characteristics=[
            Characteristic(feature=DPD, edges=(30.0,), points=(700, 690), missing_points=700)
        ],
        scale=ScoreScale(),
        tiers=TierCutoffs(),
        meta=meta,
    )


def values(dpd: float) -> dict[str, float | None]:
    zeros: dict[str, float | None] = dict.fromkeys((f.name for f in BEHAVIOUR_FEATURES), 0.0)
    return zeros | {"dpd_now": dpd}


def test_a_loan_at_60_dpd_has_pd_1_tier_e_and_a_reason_saying_it_is_in_default() -> None:
    model = make_model()
    assert model.score(values(60)).tier == "A"  # what the model alone would extrapolate
    scored = score_or_default(model, values(60))
    assert (scored.pd, scored.tier) == (1.0, "E")
    [reason] = scored.reasons
    assert reason.code == CODE
    assert reason.description == (
        "in default: 60 days past due, at or past the model's default definition of 60+ DPD"
    )


def test_below_the_threshold_the_model_scores_the_loan() -> None:
    model = make_model()
    assert score_or_default(model, values(59)) == model.score(values(59))


def test_the_threshold_is_the_one_recorded_with_the_model() -> None:
    model = make_model(meta=default_definition(30))
    assert default_dpd(model.meta) == 30
    assert default_dpd({}) == 60  # a document without one: the training target's default
    assert score_or_default(model, values(30)).tier == "E"
    assert score_or_default(model, values(29)).tier == "A"


def test_the_matrix_path_agrees_with_the_one_loan_path() -> None:
    model = make_model()
    dpd = np.array([0.0, 59.0, 60.0, 400.0, np.nan])
    scores, tiers = scores_and_tiers_of(model, dpd.reshape(-1, 1), dpd)
    one_by_one = [
        score_or_default(model, values(d) if d == d else values(0) | {"dpd_now": None})
        for d in dpd.tolist()
    ]
    assert scores.tolist() == [s.score for s in one_by_one]
    assert [int(t) for t in tiers] == ["ABCDE".index(s.tier) for s in one_by_one]


def test_training_records_the_targets_threshold_in_the_document_and_it_survives_loading() -> None:
    from scoring.cli import _document
    from scoring.domain.artifacts import load_model

    document = _document(make_model(meta={"trainer": "test"}), 30)
    assert document["meta"] == {"trainer": "test", "default_definition": {"dpd_threshold": 30}}
    assert default_dpd(load_model(document).meta) == 30
    assert "default_definition" not in _document(make_model(), None)["meta"]
