"""A loan in default is not scored by the model: PD 1, tier E, and a reason that says so.

A model learns from loans observed *before* default (``domain/labels.py`` leaves out every
loan already at or past the target's DPD threshold), so on a loan already there it only
extrapolates. As Basel treats defaulted exposures, such a loan has a PD of 1: tier E, reason
``IN_DEFAULT``. The threshold is the one the model was trained for, recorded in its document's
``meta.default_definition.dpd_threshold`` (the training target's default, 60 DPD, for a
document without it). The loan's DPD is the live feature ``dpd_now``, the one the samples
were left out on.

The score of a PD of 1 is unbounded on a points scale; a defaulted loan gets the points of
the highest PD the API shows below 1 (``0.9999``), the lowest score a PD of four places has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from scoring.domain.json_object import JsonObject
from scoring.domain.labels import TargetDefinition
from scoring.domain.model import (
    FeatureValues,
    FloatArray,
    Reason,
    Scored,
    ScoreScale,
    ServedModel,
)

CODE = "IN_DEFAULT"
DPD_FEATURE = "dpd_now"
DEFAULT_DPD = TargetDefinition().dpd_threshold
LOWEST_SHOWN_PD = 0.9999


def default_definition(dpd_threshold: int) -> JsonObject:
    """What a model document's ``meta`` records of the default its target was."""
    return {"default_definition": {"dpd_threshold": dpd_threshold}}


def default_dpd(meta: Mapping[str, Any]) -> int:
    """The DPD from which a model's loans are in default, from its document's ``meta``."""
    found = meta.get("default_definition")
    value = found.get("dpd_threshold") if isinstance(found, Mapping) else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return DEFAULT_DPD


def in_default(dpd: float | None, threshold: int) -> bool:
    return dpd is not None and dpd >= threshold


def defaulted(dpd: float, threshold: int, scale: ScoreScale) -> Scored:
    """The score of a loan ``dpd`` days past due, at or past ``threshold``."""
    reason = Reason(
        code=CODE,
        description=(
            f"in default: {int(dpd)} days past due, at or past the model's default "
            f"definition of {threshold}+ DPD"
        ),
        points_lost=0,
    )
    return Scored(pd=1.0, score=defaulted_points(scale), tier="E", reasons=(reason,))


def defaulted_points(scale: ScoreScale) -> int:
    return round(scale.points(LOWEST_SHOWN_PD))


def score_or_default(model: ServedModel, values: FeatureValues) -> Scored:
    """``model``'s score of one loan, or the defaulted score when the loan is in default."""
    threshold = default_dpd(model.meta)
    dpd = values.get(DPD_FEATURE)
    if dpd is not None and in_default(dpd, threshold):
        return defaulted(dpd, threshold, model.scale)
    scored: Scored = model.score(values)
    return scored


def override_arrays(
    pd: FloatArray, points: FloatArray, dpd: FloatArray, threshold: int, scale: ScoreScale
) -> tuple[FloatArray, FloatArray]:
    """PDs and points of many loans with the defaulted ones (``dpd`` ≥ ``threshold``) at 1."""
    hit = np.nan_to_num(dpd, nan=-1.0) >= threshold
    if not hit.any():
        return pd, points
    return np.where(hit, 1.0, pd), np.where(hit, float(defaulted_points(scale)), points)


def scores_and_tiers_of(
    model: ServedModel, matrix: FloatArray, dpd: FloatArray
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """:func:`scoring.domain.model.scores_and_tiers` with the loans in default (``dpd``, one
    per row) at PD 1 and tier E: what a stored score is compared on."""
    pd, points = model.score_matrix(matrix)
    pd, points = override_arrays(pd, points, dpd, default_dpd(model.meta), model.scale)
    return np.rint(points).astype(np.int64), model.tiers.tier_array(pd)
