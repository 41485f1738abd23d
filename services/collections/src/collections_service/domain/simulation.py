"""Simulation of a strategy over the stored history: what it would have asked for, day by day.

A case's history is its opening, its bucket moves and its close, each on a business date. Each
day the case was open, the loan's bucket is the last one known and its DPD grows by a day from
the last move (as end of day does). The segment is chosen on opening and on every bucket move,
the variant is the engine's sticky draw, and the steps due are those of ``day`` business dates
after entering the segment: exactly what the engine would have done.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from collections_service.domain.strategy import LoanSnapshot, Step, Strategy, assign_variant


@dataclass(frozen=True, slots=True)
class Move:
    on: date
    bucket: str
    dpd: int


@dataclass(frozen=True, slots=True)
class CaseHistory:
    case_id: str
    loan_id: str
    moves: tuple[Move, ...]  # the opening first, then every bucket move, in date order
    closed_on: date | None
    outstanding: Decimal
    tier: str | None = None
    quadrant: str | None = None


@dataclass(frozen=True, slots=True)
class SimulatedStep:
    on: date
    case_id: str
    loan_id: str
    segment: str
    variant: str | None
    step: Step


def days_open(
    history: CaseHistory, start: date, end: date
) -> Iterator[tuple[date, LoanSnapshot, bool]]:
    """Each day in [start, end] the case was open: the loan as the engine saw it, and whether
    its bucket moved (or the case opened) that day."""
    moves = {m.on: m for m in history.moves}
    first = history.moves[0].on
    last = min(end, history.closed_on - timedelta(days=1) if history.closed_on else end)
    current = history.moves[0]
    day = first
    while day <= last:
        moved = day in moves
        current = moves.get(day, current)
        if day >= start:
            dpd = current.dpd + (day - current.on).days
            yield (
                day,
                LoanSnapshot(
                    current.bucket, dpd, history.outstanding, history.tier, history.quadrant
                ),
                moved,
            )
        day += timedelta(days=1)


def simulate(
    strategy: Strategy,
    history: CaseHistory,
    *,
    strategy_id: str,
    version: int,
    start: date,
    end: date,
) -> list[SimulatedStep]:
    steps: list[SimulatedStep] = []
    segment_name: str | None = None
    variant = None
    entered = start
    for day, snapshot, moved in days_open(history, history.moves[0].on, end):
        if moved:
            segment = strategy.segment_for(snapshot)
            if segment is not None and segment.name != segment_name:
                segment_name, entered = segment.name, day
                variant = assign_variant(
                    segment, strategy_id=strategy_id, version=version, case_id=history.case_id
                )
        if day < start or variant is None or segment_name is None:
            continue
        steps.extend(
            SimulatedStep(day, history.case_id, history.loan_id, segment_name, variant.name, s)
            for s in variant.path
            if s.day == (day - entered).days
        )
    return steps
