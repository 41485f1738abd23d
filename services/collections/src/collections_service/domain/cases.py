"""The case state machine: one transition table (phase × what happened → phase, what to emit).

A case opens when monitoring reports a loan's move out of bucket ``C`` (BRIEF section 5), follows
the loan through the buckets, and closes on cure, payoff, settlement, write-off or transfer to
legal. One open case per loan: after a close the loan has no open case, so a relapse opens a new
one. The service layer applies a :class:`Transition` and writes its events in one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from shared.events import DelinquencyChanged

CURRENT_BUCKET = "C"


class Phase(StrEnum):
    """Where a loan stands for collections: without an open case, or with one."""

    NONE = "none"
    OPEN = "open"


class Happened(StrEnum):
    """What collections learns about a loan, from monitoring's events or its own actions."""

    MOVED_DELINQUENT = "moved_delinquent"  # delinquency.changed to a bucket other than C
    MOVED_CURRENT = "moved_current"  # delinquency.changed back to C
    PAID_OFF = "paid_off"  # loan.closed, paid in full
    SETTLED = "settled"  # a settlement offer booked
    WRITTEN_OFF = "written_off"  # loan.closed by write-off
    TRANSFERRED_TO_LEGAL = "transferred_to_legal"


class CloseReason(StrEnum):
    CURED = "cured"
    PAID_OFF = "paid_off"
    SETTLED = "settled"
    WRITTEN_OFF = "written_off"
    LEGAL = "legal"


class Emit(StrEnum):
    """What a transition records: case events on the bus, or a line of the case's timeline."""

    CASE_OPENED = "collections.case.opened"
    CASE_CLOSED = "collections.case.closed"
    BUCKET_CHANGED = "bucket_changed"  # timeline only: the case follows the loan


@dataclass(frozen=True, slots=True)
class Transition:
    phase: Phase
    emit: tuple[Emit, ...] = ()
    close_reason: CloseReason | None = None

    @property
    def opens(self) -> bool:
        return Emit.CASE_OPENED in self.emit

    @property
    def closes(self) -> bool:
        return self.close_reason is not None


def _close(reason: CloseReason) -> Transition:
    return Transition(Phase.NONE, (Emit.CASE_CLOSED,), reason)


_NOTHING = Transition(Phase.NONE)

#: Every pair not listed changes nothing (e.g. a payoff of a loan without an open case).
TABLE: dict[tuple[Phase, Happened], Transition] = {
    (Phase.NONE, Happened.MOVED_DELINQUENT): Transition(Phase.OPEN, (Emit.CASE_OPENED,)),
    (Phase.OPEN, Happened.MOVED_DELINQUENT): Transition(Phase.OPEN, (Emit.BUCKET_CHANGED,)),
    (Phase.OPEN, Happened.MOVED_CURRENT): _close(CloseReason.CURED),
    (Phase.OPEN, Happened.PAID_OFF): _close(CloseReason.PAID_OFF),
    (Phase.OPEN, Happened.SETTLED): _close(CloseReason.SETTLED),
    (Phase.OPEN, Happened.WRITTEN_OFF): _close(CloseReason.WRITTEN_OFF),
    (Phase.OPEN, Happened.TRANSFERRED_TO_LEGAL): _close(CloseReason.LEGAL),
}


def transition(phase: Phase, happened: Happened) -> Transition:
    """The loan's next phase for collections and what to record."""
    if (phase, happened) in TABLE:
        return TABLE[phase, happened]
    return Transition(phase) if phase is Phase.OPEN else _NOTHING


def bucket_move(bucket: str) -> Happened:
    """What a ``monitoring.delinquency.changed`` to ``bucket`` means for a case."""
    return Happened.MOVED_CURRENT if bucket == CURRENT_BUCKET else Happened.MOVED_DELINQUENT


def missed_cure(phase: Phase, bucket_before: str, bucket: str) -> bool:
    """A move out of ``C`` while a case is still open: the loan was cured in between, and the
    fact saying so came late (out of order) — the open case closes as cured, a new one opens."""
    return phase is Phase.OPEN and bucket_before == CURRENT_BUCKET and bucket != CURRENT_BUCKET


_CASES = uuid.UUID("0b9e6a8e-2a7f-4c1e-9d3b-51c7c0a4e6f2")  # the namespace of case ids


def case_id_for(loan_id: str, opened_on: date) -> uuid.UUID:
    """A case's id, fixed by its loan and the business date it opened (a loan opens at most one
    case a day): replaying the same history gives the same ids, hence the same variants."""
    return uuid.uuid5(_CASES, f"{loan_id}|{opened_on.isoformat()}")


def waves(facts: Sequence[DelinquencyChanged]) -> list[list[DelinquencyChanged]]:
    """The facts in waves, in order: a fact goes to the first wave after every wave holding an
    earlier fact of its loan or of its borrower."""
    found: list[list[DelinquencyChanged]] = []
    last_of: dict[str, int] = {}  # loan or borrower id -> the last wave holding it
    for fact in facts:
        keys = ("loan:" + fact.loan_id, "borrower:" + fact.borrower_id)
        wave = 1 + max(last_of.get(k, -1) for k in keys)
        if wave == len(found):
            found.append([])
        found[wave].append(fact)
        for key in keys:
            last_of[key] = wave
    return found
