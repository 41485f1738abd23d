"""The tables of placements and legal files, and the rules of escalation and of resolutions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from collections_service.domain.agencies import (
    PlacementEvent,
    PlacementStatus,
    next_status,
    notice_pending,
)
from collections_service.domain.disputes import DisputeOutcome, outcome_problem, resolution_of
from collections_service.domain.legal import (
    Judgment,
    JudgmentOutcome,
    LegalStatus,
    can_move,
    escalation_blocker,
    filing_missing,
)

N, P, R = PlacementStatus.NOTICE_REQUESTED, PlacementStatus.PLACED, PlacementStatus.RECALLED


@pytest.mark.parametrize(
    ("status", "event", "expected"),
    [
        (N, PlacementEvent.PLACE, P), (N, PlacementEvent.RECALL, R), (N, PlacementEvent.ACT, None),
        (P, PlacementEvent.ACT, P), (P, PlacementEvent.RECALL, R), (P, PlacementEvent.PLACE, None),
        (R, PlacementEvent.PLACE, None), (R, PlacementEvent.ACT, None),
        (R, PlacementEvent.RECALL, None),
    ],
)  # fmt: skip
def test_a_placement_moves_only_as_its_table_says(
    status: PlacementStatus, event: PlacementEvent, expected: PlacementStatus | None
) -> None:
    assert next_status(status, event) == expected


@pytest.mark.parametrize(
    ("required", "status", "waits"),
    [(True, None, True), (True, "pending", True), (True, "failed", True),
     (True, "delivered", False), (False, None, False)],
)  # fmt: skip
def test_a_placement_waits_for_the_notice_only_where_the_pack_requires_it(
    required: bool, status: str | None, waits: bool
) -> None:
    assert notice_pending(required, status) is waits


def test_a_judgment_is_recorded_never_set_by_hand_and_a_closed_file_stays_closed() -> None:
    assert not any(can_move(s, LegalStatus.JUDGMENT) for s in LegalStatus)
    assert not any(can_move(LegalStatus.CLOSED, s) for s in LegalStatus)
    assert can_move(LegalStatus.PREPARING, LegalStatus.FILED)


def test_a_filed_file_names_its_court_and_number() -> None:
    assert filing_missing(LegalStatus.FILED, None, None) == ["court", "court_case_number"]
    assert filing_missing(LegalStatus.PREPARING, None, None) == []


def test_only_a_judgment_for_the_lender_flags_a_dishonest_debtor() -> None:
    day, amount = date(2026, 3, 3), Decimal("1.00")
    assert Judgment(day, amount, JudgmentOutcome.FOR_LENDER).flags_dishonest_debtor
    assert not Judgment(day, amount, JudgmentOutcome.FOR_BORROWER).flags_dishonest_debtor


def test_escalation_needs_a_sent_notice_and_no_open_dispute() -> None:
    assert escalation_blocker(None, dispute_open=False) is not None
    assert escalation_blocker(date(2026, 2, 16), dispute_open=True) is not None
    assert escalation_blocker(date(2026, 2, 16), dispute_open=False) is None


def test_a_resolution_gives_its_reasons() -> None:
    assert outcome_problem(DisputeOutcome.REJECTED, None, lender_evidence=0) is not None
    assert outcome_problem(DisputeOutcome.REJECTED, None, lender_evidence=1) is None
    assert outcome_problem(DisputeOutcome.CORRECTED, None, lender_evidence=0) is not None
    assert outcome_problem(DisputeOutcome.UPHELD, Decimal("1"), lender_evidence=0) is not None
    assert [resolution_of(o) for o in DisputeOutcome] == ["upheld", "upheld", "rejected"]
