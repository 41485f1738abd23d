"""Strategies as frozen data (BRIEF section 5): segments, variants, treatment paths, escalation.

The engine only ever sees a :class:`Strategy` that :func:`~collections_service.domain.
strategy_document.parse_strategy` built from a valid document. Choosing a segment, a variant and
the steps due on a business day are pure functions of it and a loan's snapshot.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from enum import StrEnum


class Action(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    PUSH = "push"
    VOICE = "voice"
    LETTER = "letter"
    AGENT_CALL = "agent_call"
    FIELD_VISIT = "field_visit"
    LEGAL_REVIEW = "legal_review"
    RESTRUCTURE_OFFER = "restructure_offer"


#: Actions that send a message from a template, and those that make a task in a queue.
MESSAGES = frozenset({Action.SMS, Action.EMAIL, Action.PUSH, Action.VOICE, Action.LETTER})
TASKS = frozenset({Action.AGENT_CALL, Action.FIELD_VISIT})
QUADRANTS = ("able_willing", "able_unwilling", "unable_willing", "unable_unwilling")
TIERS = ("A", "B", "C", "D", "E")


@dataclass(frozen=True, slots=True)
class LoanSnapshot:
    """What segment selection looks at: the loan as collections knows it on a business date."""

    bucket: str
    dpd: int
    outstanding: Decimal
    tier: str | None = None
    quadrant: str | None = None


@dataclass(frozen=True, slots=True)
class When:
    """A segment's conditions; every one given must hold (None: not a condition)."""

    buckets: frozenset[str] | None = None
    tiers: frozenset[str] | None = None
    quadrants: frozenset[str] | None = None
    min_outstanding: Decimal | None = None
    max_outstanding: Decimal | None = None
    min_dpd: int | None = None
    max_dpd: int | None = None

    def holds(self, loan: LoanSnapshot) -> bool:
        return (
            _within(self.buckets, loan.bucket)
            and _within(self.tiers, loan.tier)
            and _within(self.quadrants, loan.quadrant)
            and (self.min_outstanding is None or loan.outstanding >= self.min_outstanding)
            and (self.max_outstanding is None or loan.outstanding <= self.max_outstanding)
            and (self.min_dpd is None or loan.dpd >= self.min_dpd)
            and (self.max_dpd is None or loan.dpd <= self.max_dpd)
        )


def _within(allowed: frozenset[str] | None, value: str | None) -> bool:
    return allowed is None or value in allowed


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a treatment path: on business ``day`` since entering the segment."""

    day: int
    action: Action
    template_id: str | None = None
    queue: str | None = None
    purpose: str = "reminder"  # a message's purpose (BRIEF decision 6)


@dataclass(frozen=True, slots=True)
class Variant:
    """A champion/challenger arm; ``name`` is None for a segment's plain path (share 1)."""

    name: str | None
    share: Decimal
    path: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class Segment:
    """A segment; a plain ``path`` is one variant named None with the whole share."""

    name: str
    when: When
    variants: tuple[Variant, ...]


@dataclass(frozen=True, slots=True)
class Escalation:
    bucket: str
    action: Action


@dataclass(frozen=True, slots=True)
class PreDue:
    """A reminder ``days_before`` a due date, for loans not in a case (BRIEF decision 4)."""

    days_before: int
    when: When
    action: Action
    template_id: str


@dataclass(frozen=True, slots=True)
class Strategy:
    name: str
    products: frozenset[str]
    segments: tuple[Segment, ...]
    escalation: tuple[Escalation, ...] = ()
    pre_due: tuple[PreDue, ...] = ()

    def segment_for(self, loan: LoanSnapshot) -> Segment | None:
        """The first segment whose conditions the loan meets (BRIEF section 5)."""
        return next((s for s in self.segments if s.when.holds(loan)), None)

    def escalation_for(self, bucket: str) -> Escalation | None:
        return next((e for e in self.escalation if e.bucket == bucket), None)


#: A draw is the first 60 bits of a SHA-256: PostgreSQL's ``sha256`` reproduces it in SQL
#: (``adapters/segment_sql.py``), so a preview assigns variants exactly as the engine does.
DRAW_BITS = 60
DRAW_SCALE = 2**DRAW_BITS


def draw_key(strategy_id: str, version: int, segment: str, case_id: str) -> str:
    return f"{strategy_id}\x1f{version}\x1f{segment}\x1f{case_id}"


def draw(strategy_id: str, version: int, segment: str, case_id: str) -> int:
    """A uniform integer in [0, 2**60) fixed by its inputs: the same case always draws the same."""
    digest = hashlib.sha256(draw_key(strategy_id, version, segment, case_id).encode()).hexdigest()
    return int(digest[: DRAW_BITS // 4], 16)


def assign_variant(segment: Segment, *, strategy_id: str, version: int, case_id: str) -> Variant:
    """Champion/challenger: random but sticky per case and segment, reproducible.

    The draw falls in the variant whose cumulative share first exceeds it; integers and exact
    decimals, so SQL and Python agree at every boundary."""
    point, running = draw(strategy_id, version, segment.name, case_id), Decimal(0)
    for variant in segment.variants:
        running += variant.share
        if point < threshold(running):
            return variant
    return segment.variants[-1]  # shares sum to 1, so only rounding could land here


def threshold(cumulative_share: Decimal) -> int:
    """The first draw past a cumulative share: a draw is below the share iff below this."""
    with localcontext(prec=60):  # exact for any share a document can hold
        whole: int = math.ceil(cumulative_share * DRAW_SCALE)
        return whole


def days_between(entered_on: date, business_date: date) -> int:
    """Business days since entering the segment: every date counts, as EOD runs daily."""
    return (business_date - entered_on).days


def steps_due(variant: Variant, *, entered_on: date, business_date: date) -> tuple[Step, ...]:
    """The steps that begin on ``business_date`` (day 0 is the day the segment was entered)."""
    day = days_between(entered_on, business_date)
    return tuple(step for step in variant.path if step.day == day)
