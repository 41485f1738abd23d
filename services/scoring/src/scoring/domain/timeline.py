"""How a loan's features move with the days alone, until its next fact arrives.

Between facts a loan's features change only on days known in advance: the day after an
instalment falls due, a month anniversary of the disbursement, the day a past spell of arrears
or an alert leaves its window, the day a fact dated ahead becomes visible. On every other day
only days past due move: while an instalment is overdue, DPD grows by one a day and the worst
DPD of every window with it. So the features of the days ahead are a short list of *segments*,
each the features on its first day and whether DPD grows after it; the nightly batch reads the
segment of the day instead of rebuilding every history (see ``service_layer.advance``).

The list ends with a segment without values, ``HORIZON_DAYS`` after the day it was built on:
from then on the loan's history is read again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from scoring.domain.default import scores_and_tiers_of
from scoring.domain.features import (
    ALERT_WINDOW_DAYS,
    BEHAVIOUR_FEATURES,
    DPD_WINDOWS_MONTHS,
    add_months,
    ended_arrears,
    features_as_of,
)
from scoring.domain.history import LoanHistory
from scoring.domain.model import (
    FeatureSpec,
    FeatureValues,
    FloatArray,
    ServedModel,
)

HORIZON_DAYS = 62  # two months: the next instalment falls due and is paid (or not) before it
LOOKAHEAD_DAYS = 31  # how far ahead DPD growing is scored; a loan is looked at again after it
NAMES = tuple(f.name for f in BEHAVIOUR_FEATURES)
DPD_NOW = NAMES.index("dpd_now")
DPD_WINDOWS = tuple(NAMES.index(f"max_dpd_{m}m") for m in DPD_WINDOWS_MONTHS)

Values = tuple[float | None, ...]  # in BEHAVIOUR_FEATURES order


@dataclass(frozen=True, slots=True)
class Segment:
    """From ``starts_on`` until the next segment: ``values`` on its first day (None: read the
    history again) and whether days past due grow by one each day after it."""

    starts_on: date
    values: Values | None
    ticks: bool


def timeline(history: LoanHistory, as_of: date) -> list[Segment]:
    """The segments of ``history``'s features from ``as_of`` if no new fact arrives."""
    end = as_of + timedelta(days=HORIZON_DAYS)
    segments: list[Segment] = []
    for day in sorted({as_of, *(d for d in change_days(history, as_of) if as_of < d < end)}):
        found = features_as_of(history, day)
        values = tuple(found[name] for name in NAMES)
        ticks = (values[DPD_NOW] or 0) > 0
        last = segments[-1] if segments else None
        if last is not None and not last.ticks and not ticks and last.values == values:
            continue  # nothing moved on that day after all
        segments.append(Segment(day, values, ticks))
    segments.append(Segment(end, None, False))
    return segments


def change_days(history: LoanHistory, as_of: date) -> set[date]:
    """Days after ``as_of`` on which features may move other than by DPD growing (a superset:
    a day on which nothing moves costs one more segment, a missed one a wrong feature)."""
    days = {i.due_on + timedelta(days=1) for i in history.instalments}  # fallen due
    months = _months_between(history.disbursed_on, as_of)
    ahead = range(max(1, months - 1), months + HORIZON_DAYS // 28 + 3)
    days.update(add_months(history.disbursed_on, k) for k in ahead)
    for last in ended_arrears(history, as_of):
        days.update(_leaves_window(last, months) for months in DPD_WINDOWS_MONTHS)
    for alert in history.alerts:
        days.update((alert.raised_on, alert.raised_on + timedelta(days=ALERT_WINDOW_DAYS)))
    days.update(a.booked_on for a in history.allocations)  # facts dated ahead of ``as_of``
    days.update(b.reported_on for b in history.bureau)
    return {d for d in days if d > as_of}


def _months_between(start: date, end: date) -> int:
    return max(0, (end.year - start.year) * 12 + end.month - start.month)


def _leaves_window(last: date, months: int) -> date:
    """The first day whose window of ``months`` no longer holds ``last``: the window of day
    ``d`` holds the days after ``add_months(d, -months)``."""
    day = add_months(last, months)
    while add_months(day, -months) < last:  # month ends clamp: at most a few days on
        day += timedelta(days=1)
    return day


def segment_on(segments: Sequence[Segment], day: date) -> Segment:
    """The segment ``day`` falls in (the first one if ``day`` is before them all)."""
    current = segments[0]
    for segment in segments[1:]:
        if segment.starts_on > day:
            break
        current = segment
    return current


def values_on(segment: Segment, day: date) -> Values:
    """The features on ``day`` of a segment with values."""
    if segment.values is None:
        raise ValueError("this segment's values must be rebuilt from the history")
    if not segment.ticks:
        return segment.values
    matrix = np.array([segment.values], dtype=np.float64)
    return rows_of(advance(matrix, np.array([(day - segment.starts_on).days]), np.array([True])))[0]


def rows_of(matrix: FloatArray) -> list[Values]:
    """A feature matrix's rows as values (NaN back to None), converted all at once."""
    rows = matrix.astype(object)
    rows[np.isnan(matrix)] = None
    return [tuple(row) for row in rows.tolist()]


def advance(matrix: FloatArray, days: Iterable[int] | np.ndarray, ticks: np.ndarray) -> FloatArray:
    """Segment values (rows in BEHAVIOUR_FEATURES order) moved ``days`` on: where ``ticks``,
    DPD grows by the days and each window's worst DPD is at least the new DPD."""
    grown = matrix.copy()
    step = np.where(ticks, np.asarray(days, dtype=np.float64), 0.0)
    grown[:, DPD_NOW] += step
    for column in DPD_WINDOWS:
        grown[:, column] = np.fmax(grown[:, column], grown[:, DPD_NOW])
    return grown


def first_moves(
    models: Sequence[ServedModel], matrix: FloatArray, ticks: np.ndarray, days: Sequence[date]
) -> list[date | None]:
    """For each loan (a row of ``matrix``: its features on its day in ``days``), the first
    day on which DPD growing alone moves any model's score or tier — or, when none does
    within ``LOOKAHEAD_DAYS``, the day after them, to look again (None: DPD does not grow).
    Between segments nothing else moves, so until that day or the next segment the loan's
    scores hold and the nightly batch can leave it."""
    found: list[date | None] = [None] * len(days)
    ticking = np.flatnonzero(ticks)
    if not len(ticking):
        return found
    base = matrix[ticking]
    steps = np.tile(np.arange(1, LOOKAHEAD_DAYS + 1), len(ticking))
    ahead = advance(np.repeat(base, LOOKAHEAD_DAYS, axis=0), steps, np.ones(len(steps), bool))
    moved = np.zeros((len(ticking), LOOKAHEAD_DAYS + 1), dtype=bool)
    moved[:, LOOKAHEAD_DAYS] = True  # look again the day after the last day scored
    for model in models:
        now_score, now_tier = scores_and_tiers_of(
            model, model_columns(base, model.features), base[:, DPD_NOW]
        )
        later_score, later_tier = scores_and_tiers_of(
            model, model_columns(ahead, model.features), ahead[:, DPD_NOW]
        )
        scored = moved[:, :LOOKAHEAD_DAYS]
        scored |= later_score.reshape(scored.shape) != now_score[:, None]
        scored |= later_tier.reshape(scored.shape) != now_tier[:, None]
    first = moved.argmax(axis=1) + 1
    for k, row in enumerate(ticking.tolist()):
        found[row] = days[row] + timedelta(days=int(first[k]))
    return found


def model_columns(matrix: FloatArray, features: tuple[FeatureSpec, ...]) -> FloatArray:
    """The columns a model reads, in its order (NaN for a feature scoring does not build)."""
    out = np.full((matrix.shape[0], len(features)), np.nan)
    for k, feature in enumerate(features):
        if feature.name in NAMES:
            out[:, k] = matrix[:, NAMES.index(feature.name)]
    return out


def as_mapping(values: Values) -> FeatureValues:
    return dict(zip(NAMES, values, strict=True))
