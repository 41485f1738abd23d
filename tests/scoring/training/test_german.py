"""German credit end to end: download and cache, 5-fold CV, export check, the CLI's files.

Needs the network (PyPI) for the first download; a failure to download fails loudly.
"""

import json
from pathlib import Path

import httpx
import numpy as np
import pytest

from scoring.cli import main
from scoring.domain.model import ScoreScale, TierCutoffs
from scoring.domain.scorecard import ScorecardModel
from scoring.training.datasets import TARGET, Dataset, load_german
from scoring.training.pipeline import CrossValidation, OutOfTime, TrainingResult, train
from scoring.training.scorecard import optbinning_points, served_points

# Lessmann et al. (2015) report 0.784 for logistic regression on German credit.
REFERENCE_AUC = 0.78


@pytest.fixture(scope="module")
def german() -> Dataset:
    return load_german()


@pytest.fixture(scope="module")
def result(german: Dataset) -> TrainingResult:
    return train(
        german.frame,
        german.target,
        german.features,
        version="german-test",
        seed=7,
        scale=ScoreScale(),
        tiers=TierCutoffs(),
        validation=CrossValidation(folds=5),
        categories=german.categories,
    )


def test_the_data_set_is_fetched_once_then_read_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTLOAN_CACHE_DIR", str(tmp_path))
    first = load_german()

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the second load went to the network")

    monkeypatch.setattr(httpx, "get", no_network)
    monkeypatch.setattr(httpx, "stream", no_network)
    second = load_german()
    assert second.frame.equals(first.frame)
    cached = list((tmp_path / "datasets").rglob("*"))
    assert [p.name for p in cached if p.is_file()] == ["germancredit.csv"]


def test_german_credit_has_1000_applicants_and_30_percent_bads(german: Dataset) -> None:
    assert german.frame.shape == (1000, 21)
    assert german.target.mean() == pytest.approx(0.3)
    assert set(german.frame.columns) == {f.name for f in german.features} | {TARGET}
    assert german.categories["housing"] == ("for free", "own", "rent")


def test_the_scorecard_reaches_the_published_auc_in_cross_validation(
    result: TrainingResult,
) -> None:
    mean, sd = result.summary("champion", "auc")
    assert len(result.folds) == 5
    assert mean >= REFERENCE_AUC, f"scorecard mean AUC {mean:.4f} ± {sd:.4f}"


def test_served_points_equal_optbinnings_score_on_every_validation_row(
    german: Dataset, result: TrainingResult
) -> None:
    compared = 0
    for fold in result.folds:
        rows = german.frame.iloc[fold.validation]
        expected = optbinning_points(fold.champion, rows)
        np.testing.assert_array_equal(served_points(fold.champion.model, rows), expected)
        compared += len(rows)
    assert compared == len(german.frame)


def test_the_served_pd_is_the_scale_read_of_the_points(result: TrainingResult) -> None:
    pd, points = (
        result.validation_scores["champion"].pd,
        result.validation_scores["champion"].points,
    )
    np.testing.assert_allclose(pd, ScoreScale().pd_array(points), rtol=1e-12)
    # Calibrated on average: the mean PD is close to the observed bad rate.
    assert pd.mean() == pytest.approx(result.validation_target.mean(), abs=0.03)


def test_the_final_champion_survives_its_json_document(result: TrainingResult) -> None:
    document = json.loads(json.dumps(result.champion.to_json()))
    assert ScorecardModel.from_json(document).to_json() == result.champion.to_json()


def test_an_out_of_time_split_validates_on_the_later_rows_and_serves_the_development_fit(
    german: Dataset,
) -> None:
    frame = german.frame.assign(split=["development"] * 700 + ["validation"] * 300)
    result = train(
        frame,
        german.target,
        german.features,
        version="german-oot",
        seed=7,
        scale=ScoreScale(),
        tiers=TierCutoffs(),
        validation=OutOfTime.from_column(frame),
        categories=german.categories,
    )
    (fold,) = result.folds
    assert (fold.development.size, fold.validation.size) == (700, 300)
    assert result.champion is fold.champion.model
    assert result.validation_target.tolist() == german.target[700:].tolist()
    assert result.summary("champion", "auc") == (result.pooled["champion"].auc, 0.0)
    assert fold.export_mismatches == 0


def test_the_cli_writes_models_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["train", "--dataset", "german", "--folds", "2", "--out", str(tmp_path), "--version", "t1"]
    )
    assert code == 0
    folder = tmp_path / "t1"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["champion.json", "challenger.json", "reference.json", "report.json", "report.html"]
    )
    reference = json.loads((folder / "reference.json").read_text())
    assert set(reference) == {"champion", "challenger"}
    assert sum(reference["champion"]["score"]["counts"]) == 1000
    report = json.loads((folder / "report.json").read_text())
    assert report["validation"] == {"method": "stratified_cross_validation", "folds": 2}
    assert report["export_check"] == {"rows_compared": 1000, "mismatches": 0}
    assert json.loads((folder / "champion.json").read_text())["kind"] == "scorecard"
    versions = {json.loads((folder / f"{r}.json").read_text())["version"] for r in reference}
    assert versions == {"t1", "t1-challenger"}  # registered side by side, so distinct
    assert json.loads((folder / "challenger.json").read_text())["kind"] == "gbm"
    page = (folder / "report.html").read_text()
    assert page.count("<svg") == 5
    # Self-contained: no script, and no link but the SVG namespace.
    assert "<script" not in page
    assert page.count("http") == page.count('xmlns="http://www.w3.org/2000/svg"')
    assert "AUC" in capsys.readouterr().out


def test_the_cli_refuses_to_overwrite_a_version(tmp_path: Path) -> None:
    (tmp_path / "t1").mkdir()
    code = main(["train", "--dataset", "german", "--out", str(tmp_path), "--version", "t1"])
    assert code == 2
