"""Training run: champion and challenger, validated, then refit for serving.

Validation is either an explicit out-of-time split (development rows vs later validation rows)
or stratified k-fold cross-validation with a fixed seed. Under cross-validation every row is
scored once by the models that did not see it (its out-of-fold prediction); those pooled
predictions give the validation metrics and charts, and each fold's own metrics give the mean
and standard deviation. The PSI compares each fold's development scores with its validation
scores. The models handed back for serving are refit on all development data (the whole
frame under cross-validation, the development rows out of time).
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped, unused-ignore]
from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped, unused-ignore]

from scoring.domain.gbm import GbmModel
from scoring.domain.metrics import ModelMetrics, PsiResult, evaluate, psi
from scoring.domain.model import FeatureSpec, FloatArray, ScoreScale, ServedModel, TierCutoffs
from scoring.domain.scorecard import ScorecardModel
from scoring.training.challenger import train_challenger
from scoring.training.scorecard import ChampionFit, optbinning_points, train_scorecard

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ROLES = ("champion", "challenger")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class CrossValidation:
    folds: int = 5

    def __str__(self) -> str:
        return f"{self.folds}-fold stratified cross-validation"


@dataclass(frozen=True)
class OutOfTime:
    """``validation`` is True on the (later) rows kept out of development."""

    validation: BoolArray

    def __str__(self) -> str:
        held = int(self.validation.sum())
        return f"out of time: {self.validation.size - held:,} development, {held:,} validation rows"

    @classmethod
    def from_column(
        cls, frame: pd.DataFrame, column: str = "split", value: str = "validation"
    ) -> OutOfTime:
        return cls(np.asarray(frame[column] == value, dtype=np.bool_))


Validation = CrossValidation | OutOfTime


@dataclass(frozen=True)
class Scores:
    pd: FloatArray
    points: FloatArray


@dataclass(frozen=True)
class Fold:
    """One development/validation split and the models fitted on its development rows."""

    index: int
    development: IntArray
    validation: IntArray
    champion: ChampionFit
    challenger: GbmModel
    metrics: Mapping[str, ModelMetrics]
    psi: Mapping[str, PsiResult]
    export_mismatches: int  # validation rows where the served score is not optbinning's


@dataclass(frozen=True)
class TrainingResult:
    champion: ScorecardModel
    challenger: GbmModel
    folds: tuple[Fold, ...]
    validation: Validation
    validation_target: IntArray  # outcomes of the validation rows (all rows, out of fold)
    validation_scores: Mapping[str, Scores]
    development_points: Mapping[str, FloatArray]  # the served models' points on development
    pooled: Mapping[str, ModelMetrics]
    version: str
    seed: int
    fingerprint: str
    rows: int
    bad_rate: float
    features: tuple[FeatureSpec, ...]

    def summary(self, role: str, metric: str) -> tuple[float, float]:
        """Mean and standard deviation of a metric over the folds (sd 0 for one fold)."""
        values = [float(getattr(f.metrics[role], metric)) for f in self.folds]
        return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of the data: column names, then each column's values in a canonical form."""
    digest = hashlib.sha256()
    for name in frame.columns:
        column = frame[name]
        digest.update(f"{name}\x1f{len(column)}\x1e".encode())
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
            digest.update(np.ascontiguousarray(values, dtype="<f8").tobytes())
        else:
            digest.update("\x1f".join("" if v is None else str(v) for v in column).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class _Setup:
    frame: pd.DataFrame
    target: IntArray
    features: tuple[FeatureSpec, ...]
    version: str
    seed: int
    scale: ScoreScale
    tiers: TierCutoffs
    categories: Mapping[str, Sequence[str]]


def train(
    frame: pd.DataFrame,
    target: npt.NDArray[Any],
    features: Sequence[FeatureSpec],
    *,
    version: str,
    seed: int,
    scale: ScoreScale,
    tiers: TierCutoffs,
    validation: Validation,
    categories: Mapping[str, Sequence[str]] | None = None,
    progress: Progress | None = None,
) -> TrainingResult:
    """Validate a champion and a challenger on ``frame``, then refit both for serving."""
    outcomes = np.asarray(target, dtype=np.int64)
    if outcomes.shape != (len(frame),):
        raise ValueError(f"target has {outcomes.size} values for {len(frame)} rows")
    data = frame[[f.name for f in features]].reset_index(drop=True)
    setup = _Setup(data, outcomes, tuple(features), version, seed, scale, tiers, categories or {})
    say = progress or (lambda _message: None)
    splits = _splits(setup, validation)
    folds = tuple(
        _fold(setup, i, dev, val, say, single=len(splits) == 1)
        for i, (dev, val) in enumerate(splits)
    )
    if isinstance(validation, OutOfTime):
        final_champion, final_challenger = folds[0].champion.model, folds[0].challenger
        development = splits[0][0]
    else:
        say(f"refitting both models on all {len(data):,} rows")
        development = np.arange(len(data))
        final_champion, final_challenger = _fit_pair(setup, development, version)
    return _result(setup, validation, folds, final_champion, final_challenger, development)


def _splits(setup: _Setup, validation: Validation) -> list[tuple[IntArray, IntArray]]:
    if isinstance(validation, OutOfTime):
        mask = np.asarray(validation.validation, dtype=np.bool_)
        if mask.shape != setup.target.shape or mask.all() or not mask.any():
            raise ValueError("an out-of-time split needs development and validation rows")
        return [(np.flatnonzero(~mask), np.flatnonzero(mask))]
    if validation.folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    folds = StratifiedKFold(n_splits=validation.folds, shuffle=True, random_state=setup.seed)
    return [
        (np.asarray(dev, dtype=np.int64), np.asarray(val, dtype=np.int64))
        for dev, val in folds.split(np.zeros(setup.target.size), setup.target)
    ]


def _fit_pair(setup: _Setup, rows: IntArray, version: str) -> tuple[ScorecardModel, GbmModel]:
    fit = _fit_champion(setup, rows, version)
    return fit.model, _fit_challenger(setup, rows, challenger_version(version))


def challenger_version(version: str) -> str:
    """The two models of a training are registered side by side: they need their own names."""
    return f"{version}-challenger"


def _fit_champion(setup: _Setup, rows: IntArray, version: str) -> ChampionFit:
    return train_scorecard(
        setup.frame.iloc[rows],
        setup.target[rows],
        setup.features,
        version=version,
        scale=setup.scale,
        tiers=setup.tiers,
        categories=setup.categories,
    )


def _fit_challenger(setup: _Setup, rows: IntArray, version: str) -> GbmModel:
    return train_challenger(
        setup.frame.iloc[rows],
        setup.target[rows],
        setup.features,
        version=version,
        seed=setup.seed,
        scale=setup.scale,
        tiers=setup.tiers,
    )


def _fold(
    setup: _Setup, index: int, dev: IntArray, val: IntArray, say: Progress, *, single: bool
) -> Fold:
    """One development/validation split; the only one of an out-of-time validation gives the
    final models, so they carry the version itself."""
    say(f"fold {index + 1}: developing on {dev.size:,} rows, validating on {val.size:,}")
    version = setup.version if single else f"{setup.version}-fold{index + 1}"
    champion = _fit_champion(setup, dev, version)
    challenger = _fit_challenger(setup, dev, challenger_version(version))
    models: dict[str, ServedModel] = {"champion": champion.model, "challenger": challenger}
    on_val = {role: _scores(model, setup, val) for role, model in models.items()}
    metrics = {r: evaluate(setup.target[val], on_val[r].pd, setup.tiers) for r in ROLES}
    drift = {r: psi(_scores(models[r], setup, dev).points, on_val[r].points) for r in ROLES}
    reference = optbinning_points(champion, setup.frame.iloc[val])
    mismatches = int(np.count_nonzero(on_val["champion"].points != reference))
    say(
        f"fold {index + 1}: AUC champion {metrics['champion'].auc:.4f}, "
        f"challenger {metrics['challenger'].auc:.4f}"
    )
    return Fold(index, dev, val, champion, challenger, metrics, drift, mismatches)


def _scores(model: ServedModel, setup: _Setup, rows: IntArray) -> Scores:
    matrix = setup.frame.iloc[rows][[f.name for f in model.features]]
    pd_, points = model.score_matrix(matrix.to_numpy(dtype=np.float64, na_value=np.nan))
    return Scores(pd=pd_, points=points)


def _result(
    setup: _Setup,
    validation: Validation,
    folds: tuple[Fold, ...],
    champion: ScorecardModel,
    challenger: GbmModel,
    development: IntArray,
) -> TrainingResult:
    served: dict[str, ServedModel] = {"champion": champion, "challenger": challenger}
    rows = np.concatenate([f.validation for f in folds])
    # Out of time there is one fold, whose models are the served ones.
    scores = {role: _pooled_scores(setup, folds, role) for role in ROLES}
    outcomes = setup.target[rows]
    return TrainingResult(
        champion=champion,
        challenger=challenger,
        folds=folds,
        validation=validation,
        validation_target=outcomes,
        validation_scores=scores,
        development_points={r: _scores(served[r], setup, development).points for r in ROLES},
        pooled={r: evaluate(outcomes, scores[r].pd, setup.tiers) for r in ROLES},
        version=setup.version,
        seed=setup.seed,
        fingerprint=fingerprint(setup.frame.assign(target=setup.target)),
        rows=len(setup.frame),
        bad_rate=float(setup.target.mean()),
        features=setup.features,
    )


def _pooled_scores(setup: _Setup, folds: tuple[Fold, ...], role: str) -> Scores:
    """Each validation row scored by its own fold's model, in the order of the folds."""
    parts = []
    for fold in folds:
        model: ServedModel = fold.champion.model if role == "champion" else fold.challenger
        parts.append(_scores(model, setup, fold.validation))
    return Scores(
        pd=np.concatenate([p.pd for p in parts]),
        points=np.concatenate([p.points for p in parts]),
    )
