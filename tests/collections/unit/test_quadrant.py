"""Ability × willingness: each quadrant from its signals, with the inputs shown."""

from __future__ import annotations

from decimal import Decimal

import pytest

from collections_service.domain.quadrant import (
    Ability,
    QuadrantThresholds,
    Willingness,
    quadrant,
    thresholds_from,
)

ABLE = Ability(bureau_score=700, bureau_score_before=710, total_debt=Decimal("20000"),
               principal=Decimal("12000"), delinquent_elsewhere=0, tier="B")  # fmt: skip
UNABLE = Ability(bureau_score=480, bureau_score_before=620, total_debt=Decimal("200000"),
                 principal=Decimal("12000"), delinquent_elsewhere=3, tier="E")  # fmt: skip
WILLING = Willingness(promises_made=2, promises_kept=2, contacts_made=5, contacts_answered=4)
UNWILLING = Willingness(promises_made=3, promises_kept=0, contacts_made=10, contacts_answered=0)


@pytest.mark.parametrize(
    ("ability", "willingness", "expected"),
    [
        (ABLE, WILLING, "able_willing"),
        (ABLE, UNWILLING, "able_unwilling"),
        (UNABLE, WILLING, "unable_willing"),
        (UNABLE, UNWILLING, "unable_unwilling"),
    ],
)
def test_each_quadrant_from_its_signals(
    ability: Ability, willingness: Willingness, expected: str
) -> None:
    assert quadrant(ability, willingness).quadrant == expected


def test_the_answer_shows_every_signal_it_used() -> None:
    result = quadrant(UNABLE, WILLING)

    assert result.signals["ability.bureau_score"] is False
    assert result.signals["ability.tier"] is False
    assert result.signals["willingness.promises_kept"] is True
    assert set(result.signals) >= {"ability.total_debt", "willingness.answers_contacts"}


def test_with_nothing_known_the_borrower_gets_the_benefit_of_the_doubt() -> None:
    assert quadrant(Ability(), Willingness()).quadrant == "able_willing"


def test_thresholds_are_data() -> None:
    strict = QuadrantThresholds(min_bureau_score=750, able_share=Decimal(1))

    assert quadrant(ABLE, WILLING, strict).quadrant == "unable_willing"


def test_thresholds_come_from_configuration_with_defaults_for_the_rest() -> None:
    chosen = thresholds_from(
        {"min_bureau_score": 650, "unable_tiers": ["D", "E"], "able_share": "0.6"}
    )
    assert (chosen.min_bureau_score, chosen.unable_tiers, chosen.able_share) == (
        650,
        frozenset({"D", "E"}),
        Decimal("0.6"),
    )
    assert chosen.max_score_drop == QuadrantThresholds().max_score_drop


def test_unknown_or_bad_thresholds_are_named() -> None:
    with pytest.raises(
        ValueError, match=r"min_score: unknown threshold; able_share: 'x' is not a Decimal"
    ):
        thresholds_from({"min_score": 1, "able_share": "x"})
