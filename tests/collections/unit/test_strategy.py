"""Strategies as documents: the brief's example parses, every mistake is listed with its path,
the first matching segment wins, and champion/challenger assignment is sticky and balanced."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

from collections_service.domain.strategy import (
    Action,
    LoanSnapshot,
    Strategy,
    assign_variant,
    steps_due,
)
from collections_service.domain.strategy_document import parse_strategy

EXAMPLE: dict[str, Any] = {
    "name": "Consumer standard",
    "products": ["consumer-12m"],
    "segments": [
        {"segment": "early-high-risk", "when": {"buckets": ["M1"], "tiers": ["D", "E"]},
         "variants": [
             {"variant": "champion", "share": "0.8", "path": [
                 {"day": 0, "action": "sms", "template_id": "reminder-soft"},
                 {"day": 2, "action": "agent_call", "queue": "early"}]},
             {"variant": "challenger", "share": "0.2", "path": [
                 {"day": 0, "action": "voice", "template_id": "reminder-ivr"}]}]},
        {"segment": "early", "when": {"buckets": ["M1"]},
         "path": [{"day": 0, "action": "sms", "template_id": "reminder-soft"},
                  {"day": 5, "action": "email", "template_id": "second-notice"}]},
    ],
    "escalation": [{"bucket": "M3", "action": "legal_review"}],
}  # fmt: skip


def strategy() -> Strategy:
    parsed = parse_strategy(EXAMPLE)
    assert isinstance(parsed, Strategy), parsed
    return parsed


def loan(*, bucket: str = "M1", tier: str | None = "B", dpd: int = 3) -> LoanSnapshot:
    return LoanSnapshot(bucket=bucket, dpd=dpd, outstanding=Decimal("1200.00"), tier=tier)


def test_the_briefs_example_parses() -> None:
    parsed = strategy()

    assert [s.name for s in parsed.segments] == ["early-high-risk", "early"]
    assert [v.name for v in parsed.segments[0].variants] == ["champion", "challenger"]
    assert parsed.segments[1].variants[0].name is None
    assert parsed.escalation_for("M3") is not None


def test_every_mistake_is_listed_with_its_path() -> None:
    bad = copy.deepcopy(EXAMPLE)
    bad["segments"][1]["path"][0]["action"] = "carrier_pigeon"
    bad["segments"][0]["variants"][1]["share"] = "0.3"
    bad["segments"][1]["path"][1].pop("template_id")
    bad["segments"][0]["when"]["tiers"] = ["Z"]
    bad["escalation"][0]["bucket"] = "M9"

    errors = parse_strategy(bad)

    assert isinstance(errors, list)
    fields = {e.field for e in errors}
    assert {
        "segments[1].path[0].action",
        "segments[0].variants",
        "segments[1].path[1].template_id",
        "segments[0].when.tiers[0]",
        "escalation[0].bucket",
    } <= fields
    assert all(e.message for e in errors)


def test_a_share_written_as_a_float_is_refused() -> None:
    bad = copy.deepcopy(EXAMPLE)
    bad["segments"][0]["variants"][0]["share"] = 0.8

    errors = parse_strategy(bad)

    assert isinstance(errors, list)
    assert "segments[0].variants[0].share" in {e.field for e in errors}


def test_a_document_that_is_not_an_object_is_refused() -> None:
    errors = parse_strategy("strategy")

    assert isinstance(errors, list)
    assert errors[0].field == "$"


def test_the_first_matching_segment_wins() -> None:
    parsed = strategy()

    high = parsed.segment_for(loan(tier="E"))
    low = parsed.segment_for(loan(tier="B"))

    assert high is not None
    assert high.name == "early-high-risk"
    assert low is not None
    assert low.name == "early"
    assert parsed.segment_for(loan(bucket="M2")) is None


def test_assignment_is_sticky_per_case() -> None:
    segment = strategy().segments[0]

    first = [
        assign_variant(segment, strategy_id="std", version=2, case_id=f"C-{n}") for n in range(50)
    ]
    again = [
        assign_variant(segment, strategy_id="std", version=2, case_id=f"C-{n}") for n in range(50)
    ]

    assert first == again


def test_assignment_is_balanced_within_two_points_over_10000_cases() -> None:
    segment = strategy().segments[0]

    names = [
        assign_variant(segment, strategy_id="std", version=2, case_id=f"C-{n}").name
        for n in range(10_000)
    ]

    assert abs(names.count("champion") / 10_000 - 0.8) < 0.02


def test_steps_run_on_their_business_day_since_entering_the_segment() -> None:
    path = strategy().segments[1].variants[0]
    entered = date(2026, 12, 30)

    assert [s.action for s in steps_due(path, entered_on=entered, business_date=entered)] == [
        Action.SMS
    ]
    assert steps_due(path, entered_on=entered, business_date=date(2026, 12, 31)) == ()
    assert [
        s.template_id for s in steps_due(path, entered_on=entered, business_date=date(2027, 1, 4))
    ] == ["second-notice"]
