"""The training target of the B-score and the samples it is learnt from.

A sample is a loan observed at the close of a day: its features from what was known then, and
whether it went *bad* in the horizon after it: DPD reached ``dpd_threshold`` on some day in
``(observed_on, observed_on + horizon_months]``. A loan is observed only when the outcome is
fully known and the question is open:

- it is on book: disbursed before the day and not repaid by its close (no principal left and
  nothing overdue);
- its whole horizon ends on or before ``known_until`` (a shorter window would call good a loan
  whose default has not happened yet);
- it is not already bad: a loan at or past the threshold on the day is in default, for
  collections rather than for an early-warning score, and would teach the model only that
  DPD predicts DPD. A loan that was bad earlier and has cured is observed like any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from scoring.domain.features import add_months, features_as_of, max_dpd_between
from scoring.domain.history import LoanHistory

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class TargetDefinition:
    """Bad: DPD of at least ``dpd_threshold`` within ``horizon_months`` of the observation."""

    dpd_threshold: int = 60
    horizon_months: int = 6

    def __post_init__(self) -> None:
        if self.dpd_threshold < 1 or self.horizon_months < 1:
            raise ValueError("the DPD threshold and the horizon must be at least 1")


@dataclass(frozen=True)
class Sample:
    loan_id: str
    observed_on: date
    features: dict[str, float | None]
    bad: int


def month_ends(start: date, end: date) -> list[date]:
    """The last days of the months between ``start`` and ``end``, both included."""
    ends = []
    first = date(start.year, start.month, 1)
    while (last := add_months(first, 1) - _DAY) <= end:
        if last >= start:
            ends.append(last)
        first = add_months(first, 1)
    return ends


def build_samples(
    histories: Iterable[LoanHistory],
    observation_dates: Sequence[date],
    target: TargetDefinition,
    *,
    known_until: date,
) -> list[Sample]:
    """One sample per loan and observation date that passes the rules in the module's doc."""
    samples = []
    for history in histories:
        for observed_on in observation_dates:
            sample = _sample(history, observed_on, target, known_until)
            if sample is not None:
                samples.append(sample)
    return samples


def _sample(
    history: LoanHistory, observed_on: date, target: TargetDefinition, known_until: date
) -> Sample | None:
    horizon_end = add_months(observed_on, target.horizon_months)
    if history.disbursed_on >= observed_on or horizon_end > known_until:
        return None
    features = features_as_of(history.as_known_on(observed_on), observed_on)
    dpd_now = features["dpd_now"] or 0.0
    repaid = features["outstanding_ratio"] == 0.0 and dpd_now == 0.0
    if repaid or dpd_now >= target.dpd_threshold:
        return None
    worst = max_dpd_between(history, observed_on + _DAY, horizon_end)
    return Sample(history.loan_id, observed_on, features, int(worst >= target.dpd_threshold))
