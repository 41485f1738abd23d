"""Placements with outside agencies: one transition table (status × what happened → status).

The borrower is told before the debt passes to an agency (BRIEF section 7, records): a
placement starts as ``notice_requested``, becomes ``placed`` only once notify has sent the
notice (when the pack requires it), and ends ``recalled`` (taken back, before or after placing).
"""

from __future__ import annotations

from enum import StrEnum


class PlacementStatus(StrEnum):
    NOTICE_REQUESTED = "notice_requested"
    PLACED = "placed"
    RECALLED = "recalled"


class PlacementEvent(StrEnum):
    PLACE = "place"
    RECALL = "recall"
    ACT = "act"  # the agency reports something it did


#: Every pair not listed is refused (409).
TABLE: dict[tuple[PlacementStatus, PlacementEvent], PlacementStatus] = {
    (PlacementStatus.NOTICE_REQUESTED, PlacementEvent.PLACE): PlacementStatus.PLACED,
    (PlacementStatus.NOTICE_REQUESTED, PlacementEvent.RECALL): PlacementStatus.RECALLED,
    (PlacementStatus.PLACED, PlacementEvent.ACT): PlacementStatus.PLACED,
    (PlacementStatus.PLACED, PlacementEvent.RECALL): PlacementStatus.RECALLED,
}

#: The ledger statuses that mean notify sent the notice (a letter: released to mail).
NOTICE_SENT = frozenset({"delivered", "connected"})


def next_status(status: PlacementStatus, event: PlacementEvent) -> PlacementStatus | None:
    return TABLE.get((status, event))


def notice_pending(required: bool, notice_status: str | None) -> bool:
    """Whether placing must wait: the pack requires the notice and notify has not sent it."""
    return required and notice_status not in NOTICE_SENT


class AgencyAction(StrEnum):
    """What an agency reports doing on a placed case (recorded on the case's timeline)."""

    CALL = "call"
    LETTER = "letter"
    VISIT = "visit"
    PAYMENT_REPORTED = "payment_reported"
    PROMISE = "promise"
    NOTE = "note"
