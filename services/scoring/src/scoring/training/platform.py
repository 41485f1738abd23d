"""The platform's own behavioural history as a training set, read from scoring's database.

Loans are observed at each month end; features come from what was known on that day and the
target from the horizon after it (:mod:`scoring.domain.labels`), so no sample sees its future.
The last ``validation_months`` observation dates form the out-of-time validation sample.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date

import pandas as pd
import sqlalchemy as sa

from scoring.adapters.histories import load_histories
from scoring.domain.features import BEHAVIOUR_FEATURES
from scoring.domain.history import LoanHistory
from scoring.domain.labels import Sample, TargetDefinition, build_samples, month_ends
from scoring.service_layer.facts import business_date
from scoring.training.datasets import Dataset
from shared.db import Database

CHUNK = 5000
SPLIT_COLUMN = "out_of_time"


async def read_histories(
    database_url: str, progress: Callable[[int, int], None] | None = None
) -> tuple[list[LoanHistory], date]:
    """Every loan's history and the business date they are known until."""
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            known_until = await business_date(session)
            if known_until is None:
                raise SystemExit(
                    "scoring has no business date yet: run the platform through at least one "
                    "end of day (make run seeds a demo portfolio) before training on it"
                )
            ids = list(
                (
                    await session.execute(
                        sa.text("SELECT loan_id FROM loan_terms ORDER BY loan_id")
                    )
                ).scalars()
            )
            histories: list[LoanHistory] = []
            for start in range(0, len(ids), CHUNK):
                histories += await load_histories(session, ids[start : start + CHUNK])
                if progress is not None:
                    progress(len(histories), len(ids))
    finally:
        await db.dispose()
    return histories, known_until


def samples_frame(
    histories: list[LoanHistory],
    known_until: date,
    target: TargetDefinition,
    *,
    validation_months: int,
) -> pd.DataFrame:
    """One row per (loan, month end) with the features, ``bad``, and the out-of-time flag."""
    if not histories:
        raise SystemExit("scoring knows no loan yet: nothing to train on")
    first = min(h.disbursed_on for h in histories)
    dates = month_ends(first, known_until)
    samples = build_samples(histories, dates, target, known_until=known_until)
    if not samples:
        raise SystemExit(
            f"no loan has a complete {target.horizon_months}-month outcome window between "
            f"{first} and {known_until}: use a shorter --horizon-months or a longer history"
        )
    frame = _frame(samples)
    observed = sorted(frame["observed_on"].unique())
    if len(observed) <= validation_months:
        raise SystemExit(
            f"only {len(observed)} observation month(s) have known outcomes: an out-of-time "
            f"split of {validation_months} month(s) needs more; lower --validation-months"
        )
    frame[SPLIT_COLUMN] = frame["observed_on"] >= observed[-validation_months]
    return frame


def _frame(samples: list[Sample]) -> pd.DataFrame:
    names = [f.name for f in BEHAVIOUR_FEATURES]
    rows = [
        {"loan_id": s.loan_id, "observed_on": s.observed_on, "bad": s.bad}
        | {n: s.features[n] for n in names}
        for s in samples
    ]
    frame = pd.DataFrame(rows)
    frame[names] = frame[names].astype("float64")  # None → NaN: missing for the binning
    return frame


def load_platform(
    database_url: str,
    target: TargetDefinition,
    *,
    validation_months: int,
    say: Callable[[str], None],
) -> Dataset:
    """The platform's samples as a data set, with its out-of-time validation months marked."""

    def progress(done: int, total: int) -> None:
        if done == total or done % (CHUNK * 10) == 0:
            say(f"read the histories of {done:,}/{total:,} loans")

    histories, known_until = asyncio.run(read_histories(database_url, progress))
    say(f"observing {len(histories):,} loans at month ends until {known_until}")
    frame = samples_frame(histories, known_until, target, validation_months=validation_months)
    say(f"{len(frame):,} samples, bad rate {frame['bad'].mean():.3f}")
    return Dataset(
        name="platform",
        frame=frame,
        features=BEHAVIOUR_FEATURES,
        validation=frame[SPLIT_COLUMN].to_numpy(dtype=bool),
        default_dpd=target.dpd_threshold,
    )
