"""The case state machine, as a table: every phase × happening, and a loan's whole story."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from collections_service.domain.cases import (
    CloseReason,
    Emit,
    Happened,
    Phase,
    bucket_move,
    missed_cure,
    transition,
    waves,
)
from shared.events import DelinquencyChanged

NONE, OPEN = Phase.NONE, Phase.OPEN
OPENED, CLOSED, MOVED = Emit.CASE_OPENED, Emit.CASE_CLOSED, Emit.BUCKET_CHANGED


@pytest.mark.parametrize(
    ("phase", "happened", "after", "emit", "reason"),
    [
        (NONE, Happened.MOVED_DELINQUENT, OPEN, (OPENED,), None),
        (NONE, Happened.MOVED_CURRENT, NONE, (), None),
        (NONE, Happened.PAID_OFF, NONE, (), None),
        (NONE, Happened.SETTLED, NONE, (), None),
        (NONE, Happened.WRITTEN_OFF, NONE, (), None),
        (NONE, Happened.TRANSFERRED_TO_LEGAL, NONE, (), None),
        (OPEN, Happened.MOVED_DELINQUENT, OPEN, (MOVED,), None),
        (OPEN, Happened.MOVED_CURRENT, NONE, (CLOSED,), CloseReason.CURED),
        (OPEN, Happened.PAID_OFF, NONE, (CLOSED,), CloseReason.PAID_OFF),
        (OPEN, Happened.SETTLED, NONE, (CLOSED,), CloseReason.SETTLED),
        (OPEN, Happened.WRITTEN_OFF, NONE, (CLOSED,), CloseReason.WRITTEN_OFF),
        (OPEN, Happened.TRANSFERRED_TO_LEGAL, NONE, (CLOSED,), CloseReason.LEGAL),
    ],
)
def test_the_transition_table(
    phase: Phase,
    happened: Happened,
    after: Phase,
    emit: tuple[Emit, ...],
    reason: CloseReason | None,
) -> None:
    result = transition(phase, happened)

    assert (result.phase, result.emit, result.close_reason) == (after, emit, reason)


def test_every_pair_of_phase_and_happening_has_an_answer() -> None:
    for phase in Phase:
        for happened in Happened:
            assert transition(phase, happened).phase in Phase


def test_a_relapse_after_a_cure_opens_a_new_case() -> None:
    story = ["M1", "M2", "C", "M1"]
    phase, opened, closed = NONE, 0, 0

    for bucket in story:
        result = transition(phase, bucket_move(bucket))
        opened += result.opens
        closed += result.closes
        phase = result.phase

    assert (phase, opened, closed) == (OPEN, 2, 1)


def test_only_bucket_c_counts_as_current() -> None:
    assert bucket_move("C") is Happened.MOVED_CURRENT
    assert {bucket_move(b) for b in ("M1", "M2", "M3", "M7+")} == {Happened.MOVED_DELINQUENT}


@pytest.mark.parametrize(
    ("phase", "before", "after", "missed"),
    [
        (Phase.OPEN, "C", "M1", True),  # the cure between came late: close, open anew
        (Phase.OPEN, "M1", "M2", False),  # the case follows the loan
        (Phase.OPEN, "M1", "C", False),  # the cure itself
        (Phase.NONE, "C", "M1", False),  # an ordinary opening
    ],
)
def test_a_move_out_of_current_while_a_case_is_open_is_a_missed_cure(
    phase: Phase, before: str, after: str, missed: bool
) -> None:
    assert missed_cure(phase, before, after) is missed


def _fact(loan_id: str, borrower_id: str, on: str = "2026-02-16") -> DelinquencyChanged:
    return DelinquencyChanged(
        loan_id=loan_id, borrower_id=borrower_id, business_date=date.fromisoformat(on),
        dpd_before=0, dpd=1, bucket_before="C", bucket="M1", overdue_amount=Decimal("10.00"),
    )  # fmt: skip


def test_waves_hold_each_loan_and_borrower_once_and_keep_their_order() -> None:
    a1, b1 = _fact("L-1", "B-1"), _fact("L-2", "B-2")
    a2 = _fact("L-3", "B-1")  # the same borrower as a1: the next wave
    a3 = _fact("L-1", "B-1", "2026-02-17")  # the same loan again: after a2's wave
    c1 = _fact("L-4", "B-3")  # independent: the first wave, though it came last
    assert waves([a1, b1, a2, a3, c1]) == [[a1, b1, c1], [a2], [a3]]
    assert waves([]) == []
