"""Simulation replays a case's stored history day by day, as the engine would have run it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from collections_service.domain.simulation import CaseHistory, Move, days_open, simulate
from collections_service.domain.strategy_document import parse_strategy

DOC = {
    "name": "sim", "products": ["p"],
    "segments": [
        {"segment": "early", "when": {"buckets": ["M1"]},
         "path": [{"day": 0, "action": "sms", "template_id": "a"},
                  {"day": 2, "action": "email", "template_id": "b"}]},
        {"segment": "late", "when": {"buckets": ["M2"]},
         "path": [{"day": 0, "action": "letter", "template_id": "c"}]},
    ],
}  # fmt: skip
STRATEGY = parse_strategy(DOC)
HISTORY = CaseHistory(
    case_id="c1", loan_id="L-1",
    moves=(Move(date(2026, 2, 16), "M1", 1), Move(date(2026, 3, 18), "M2", 31)),
    closed_on=date(2026, 3, 20), outstanding=Decimal("1000.00"),
)  # fmt: skip


def test_each_open_day_has_the_bucket_of_the_last_move_and_dpd_growing_from_it() -> None:
    days = list(days_open(HISTORY, date(2026, 3, 16), date(2026, 3, 31)))
    assert [(d.isoformat(), s.bucket, s.dpd, moved) for d, s, moved in days] == [
        ("2026-03-16", "M1", 29, False),
        ("2026-03-17", "M1", 30, False),
        ("2026-03-18", "M2", 31, True),
        ("2026-03-19", "M2", 32, False),
    ]  # fmt: skip  (closed on 03-20: not open that day)


def test_steps_fall_on_their_day_since_entering_each_segment() -> None:
    assert not isinstance(STRATEGY, list)
    steps = simulate(STRATEGY, HISTORY, strategy_id="sim", version=1,
                     start=date(2026, 2, 1), end=date(2026, 3, 31))  # fmt: skip
    assert [(s.on.isoformat(), s.segment, s.step.action.value) for s in steps] == [
        ("2026-02-16", "early", "sms"), ("2026-02-18", "early", "email"),
        ("2026-03-18", "late", "letter"),
    ]  # fmt: skip


def test_a_period_after_the_entry_still_counts_days_from_the_entry() -> None:
    assert not isinstance(STRATEGY, list)
    steps = simulate(STRATEGY, HISTORY, strategy_id="sim", version=1,
                     start=date(2026, 2, 17), end=date(2026, 2, 28))  # fmt: skip
    assert [(s.on.isoformat(), s.step.action.value) for s in steps] == [("2026-02-18", "email")]
