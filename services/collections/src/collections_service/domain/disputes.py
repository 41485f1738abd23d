"""A dispute's resolution: its outcome, and what the dispute row and its event say of it."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


class DisputeOutcome(StrEnum):
    UPHELD = "upheld"  # the borrower was right
    CORRECTED = "corrected"  # partly right: the amount claimed is corrected
    REJECTED = "rejected"  # verified: the debt stands


class EvidenceKind(StrEnum):
    CONTRACT = "contract"
    STATEMENT = "statement"
    PAYMENT_PROOF = "payment_proof"
    CORRESPONDENCE = "correspondence"
    IDENTITY = "identity"
    OTHER = "other"


def resolution_of(outcome: DisputeOutcome) -> Literal["upheld", "rejected"]:
    """The resolution ``collections.dispute.resolved`` carries: a correction upholds the
    dispute in part, which for notify and the guard is the same as upheld (collection resumes)."""
    return "rejected" if outcome is DisputeOutcome.REJECTED else "upheld"


def outcome_problem(outcome: DisputeOutcome, corrected: object, lender_evidence: int) -> str | None:
    """What is wrong with a resolution, or None: a correction names the corrected amount, and
    rejecting a dispute needs the lender's verification on file (Reg F: verification first)."""
    if outcome is DisputeOutcome.CORRECTED and corrected is None:
        return "corrected_amount: required when the outcome is corrected"
    if outcome is not DisputeOutcome.CORRECTED and corrected is not None:
        return "corrected_amount: only with the outcome corrected"
    if outcome is DisputeOutcome.REJECTED and lender_evidence == 0:
        return "evidence: rejecting a dispute needs the lender's verification attached first"
    return None
