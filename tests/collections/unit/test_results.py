"""Strategy results' statistics against figures computed by hand (and published tables)."""

from __future__ import annotations

import math

import pytest

from collections_service.domain.results import uplift, wilson


def test_wilson_matches_the_textbook_example() -> None:
    # Newcombe (1998), example: 81 of 263 -> 0.2553 to 0.3662 (Wilson, 95%)
    rate = wilson(81, 263)
    assert rate.rate == pytest.approx(81 / 263)
    assert rate.low == pytest.approx(0.2553, abs=1e-4)
    assert rate.high == pytest.approx(0.3662, abs=1e-4)


def test_wilson_holds_at_the_edges() -> None:
    none = wilson(0, 10)
    assert none.low == 0.0
    assert none.high == pytest.approx(0.2775, abs=1e-4)  # 0 of 10: [0, 0.2775]
    assert wilson(0, 0).rate is None


def test_uplift_by_hand() -> None:
    challenger, champion = wilson(60, 100), wilson(45, 100)
    found = uplift(challenger, champion)
    assert found.difference == pytest.approx(0.15)
    spread = math.sqrt(0.6 * 0.4 / 100 + 0.45 * 0.55 / 100)
    low, high = 0.15 - 1.959964 * spread, 0.15 + 1.959964 * spread
    assert found.low == pytest.approx(low, abs=1e-6)
    assert found.high == pytest.approx(high, abs=1e-6)
    pooled = 105 / 200
    z = 0.15 / math.sqrt(pooled * (1 - pooled) * (2 / 100))
    assert found.p_value == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert found.p_value == pytest.approx(0.0338, abs=1e-3)
    assert found.enough


def test_a_small_sample_is_said_to_be_too_small() -> None:
    assert not uplift(wilson(3, 10), wilson(5, 12)).enough
    assert not uplift(wilson(29, 30), wilson(20, 30)).enough  # one failure only in an arm
