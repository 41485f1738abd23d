"""The legal file: when a case may go to legal, how its file moves, and when a judgment makes
the borrower a dishonest debtor (失信被执行人).

A case goes to legal only after the written final notice has been *sent* (notify confirmed it)
and the pack's waiting period has passed in business dates (the guard's ``legal_notice_period``
checks the period, with ``time_barred`` and the rest); this module says what was missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class LegalStatus(StrEnum):
    PREPARING = "preparing"  # documents gathered, not yet filed
    FILED = "filed"  # filed with the court: court and case number known
    HEARING = "hearing"
    JUDGMENT = "judgment"  # set by recording the judgment, never by hand
    ENFORCEMENT = "enforcement"
    CLOSED = "closed"


#: status → the statuses a legal officer may move the file to (judgment is recorded, not set).
MOVES: dict[LegalStatus, frozenset[LegalStatus]] = {
    LegalStatus.PREPARING: frozenset({LegalStatus.FILED, LegalStatus.CLOSED}),
    LegalStatus.FILED: frozenset({LegalStatus.HEARING, LegalStatus.CLOSED}),
    LegalStatus.HEARING: frozenset({LegalStatus.CLOSED}),
    LegalStatus.JUDGMENT: frozenset({LegalStatus.ENFORCEMENT, LegalStatus.CLOSED}),
    LegalStatus.ENFORCEMENT: frozenset({LegalStatus.CLOSED}),
    LegalStatus.CLOSED: frozenset(),
}

#: Where a judgment may be recorded: once the court has the case, and only once.
JUDGEABLE = frozenset({LegalStatus.FILED, LegalStatus.HEARING})


class JudgmentOutcome(StrEnum):
    FOR_LENDER = "for_lender"
    FOR_BORROWER = "for_borrower"


def can_move(current: LegalStatus, to: LegalStatus) -> bool:
    return to in MOVES[current]


def filing_missing(status: LegalStatus, court: str | None, case_number: str | None) -> list[str]:
    """The fields a file needs to be in ``status``: a filed file names its court and number."""
    if status in (LegalStatus.PREPARING, LegalStatus.CLOSED):
        return []
    return [name for name, v in (("court", court), ("court_case_number", case_number)) if not v]


@dataclass(frozen=True, slots=True)
class Judgment:
    on: date
    amount: Decimal
    outcome: JudgmentOutcome

    @property
    def flags_dishonest_debtor(self) -> bool:
        """A judgment for the lender lists the borrower as a dishonest debtor (失信)."""
        return self.outcome is JudgmentOutcome.FOR_LENDER


def escalation_blocker(notice_sent_on: date | None, dispute_open: bool) -> tuple[str, str] | None:
    """The rule and reason a case may not go to legal before the guard is even asked."""
    if dispute_open:
        return "dispute", "the loan has an open dispute: resolve it before any legal escalation"
    if notice_sent_on is None:
        return "legal_notice_period", "no final (legal) notice has been sent to the borrower yet"
    return None
