"""Serving the champion scorecard: one loan at a time with reasons, and a whole portfolio.

Trains a scorecard (optbinning + logistic regression, exported to ``ScorecardModel``) on a
synthetic behavioural sample of 14 numeric features, some with special codes and missing
values, then times in this process:

* ``ScorecardModel.score`` on one loan (points, PD, tier and up to four reasons), each call
  timed alone over ``--calls`` calls cycling through 1,000 different loans: p50 and p99;
* ``ScorecardModel.score_matrix`` on ``--rows`` loans at once (best of three): loans/s.

Targets: single loan p99 <= 50 µs; vectorised >= 200,000 loans/s on 1,000,000 rows.

    uv run python bench/bench_scoring.py [--calls 200000] [--rows 1000000] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from scoring.domain.model import FeatureSpec, FloatArray, ScoreScale, TierCutoffs
from scoring.domain.scorecard import ScorecardModel
from scoring.training.scorecard import train_scorecard

TRAINING_ROWS = 50_000
LOANS = 1_000
FEATURES = (
    FeatureSpec("dpd_now", "Days past due today", "ascending", (999.0,)),
    FeatureSpec("dpd_max_6m", "Worst days past due in 6 months", "ascending"),
    FeatureSpec("missed_12m", "Instalments missed in 12 months", "ascending"),
    FeatureSpec("paid_ratio_3m", "Share of the amount due paid in 3 months", "descending"),
    FeatureSpec("paid_ratio_12m", "Share of the amount due paid in 12 months", "descending"),
    FeatureSpec("utilisation", "Outstanding over original principal", "ascending"),
    FeatureSpec("months_on_book", "Months since disbursal", "descending"),
    FeatureSpec("months_to_maturity", "Months left to maturity"),
    FeatureSpec("instalment_to_income", "Instalment over monthly income", "ascending"),
    FeatureSpec("bureau_score", "Bureau score", "descending", (-1.0,)),
    FeatureSpec("bureau_inquiries_6m", "Bureau inquiries in 6 months", "ascending"),
    FeatureSpec("alerts_90d", "Early-warning alerts in 90 days", "ascending"),
    FeatureSpec("promises_broken", "Broken promises to pay", "ascending"),
    FeatureSpec("days_since_payment", "Days since the last payment", "ascending"),
)


def synthetic(rows: int, rng: np.random.Generator) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Feature matrix and defaults drawn from a logistic model of the features."""
    dpd_now = rng.choice([0, 0, 0, 0, 3, 12, 35, 70], rows) + rng.integers(0, 3, rows)
    columns = [
        np.where(rng.random(rows) < 0.005, 999.0, dpd_now),
        dpd_now + rng.poisson(4, rows),
        rng.poisson(0.6, rows).astype(np.float64),
        np.clip(rng.beta(6, 1, rows), 0, 1),
        np.clip(rng.beta(8, 1, rows), 0, 1),
        rng.uniform(0, 1, rows),
        rng.integers(1, 48, rows).astype(np.float64),
        rng.integers(0, 36, rows).astype(np.float64),
        np.where(rng.random(rows) < 0.05, np.nan, rng.gamma(2, 0.1, rows)),
        np.where(rng.random(rows) < 0.03, -1.0, rng.normal(650, 60, rows).round()),
        rng.poisson(1.0, rows).astype(np.float64),
        rng.poisson(0.3, rows).astype(np.float64),
        rng.poisson(0.2, rows).astype(np.float64),
        rng.integers(0, 120, rows).astype(np.float64),
    ]
    matrix = np.column_stack(columns).astype(np.float64)
    logit = (
        -3.2
        + 0.03 * np.minimum(matrix[:, 0], 90)
        + 0.5 * matrix[:, 2]
        - 2.0 * matrix[:, 3]
        + 1.2 * matrix[:, 5]
        - 0.006 * (np.where(matrix[:, 9] < 0, 650, matrix[:, 9]) - 650)
        + 0.4 * matrix[:, 11]
        + 0.01 * matrix[:, 13]
    )
    bad = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return matrix, bad


def train(rng: np.random.Generator) -> ScorecardModel:
    matrix, bad = synthetic(TRAINING_ROWS, rng)
    frame = pd.DataFrame(matrix, columns=[f.name for f in FEATURES])
    fit = train_scorecard(
        frame, bad, FEATURES, version="bench", scale=ScoreScale(), tiers=TierCutoffs()
    )
    return fit.model


def time_single(model: ScorecardModel, rng: np.random.Generator, calls: int) -> list[int]:
    matrix, _ = synthetic(LOANS, rng)
    names = [f.name for f in FEATURES]  # a loan has them all; the model may use fewer
    loans = [dict(zip(names, row.tolist(), strict=True)) for row in matrix]
    for loan in loans:  # warm up
        model.score(loan)
    clock = time.perf_counter_ns
    timings = []
    for i in range(calls):
        loan = loans[i % LOANS]
        start = clock()
        model.score(loan)
        timings.append(clock() - start)
    return timings


def time_matrix(model: ScorecardModel, rng: np.random.Generator, rows: int) -> float:
    all_features, _ = synthetic(rows, rng)
    used = [[f.name for f in FEATURES].index(f.name) for f in model.features]
    matrix = np.ascontiguousarray(all_features[:, used])  # the model's columns, in its order
    model.score_matrix(matrix[:1000])
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        model.score_matrix(matrix)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    model = train(rng)
    print(
        f"trained on {TRAINING_ROWS:,} synthetic loans, {len(model.features)} features, "
        f"{sum(len(c.points) for c in model.characteristics)} bins in "
        f"{time.perf_counter() - started:.1f} s"
    )
    timings = np.asarray(time_single(model, rng, args.calls)) / 1000
    p50, p99 = np.percentile(timings, [50, 99])
    seconds = time_matrix(model, rng, args.rows)
    print(f"\nsingle loan with reasons, {args.calls:,} calls")
    print(f"  p50             {p50:7.1f} µs")
    print(f"  p99             {p99:7.1f} µs   (target <= 50 µs)")
    print(f"vectorised score_matrix, {args.rows:,} loans")
    print(f"  time            {seconds:7.3f} s")
    print(f"  throughput      {args.rows / seconds:10,.0f} loans/s   (target >= 200,000/s)")
    print(f"cpus              {os.cpu_count()}")


if __name__ == "__main__":
    main()
