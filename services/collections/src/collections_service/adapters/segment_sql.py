"""A strategy's segments and variants compiled to SQL, for set-based previews and simulations.

:meth:`Strategy.segment_for` and :func:`assign_variant` are the rules; these expressions are the
same rules over a whole table at once (a preview of 1,000,000 loans is one statement). The
parity test (tests/collections/integration/test_segment_sql_parity.py) holds the two together.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import BIT
from sqlalchemy.sql.elements import ColumnElement

from collections_service.domain.strategy import DRAW_BITS, Segment, Strategy, When, threshold


@dataclass(frozen=True, slots=True)
class SnapshotColumns:
    """Where a selectable keeps what segment selection reads (any table or subquery)."""

    key: ColumnElement[str]  # what the variant draw is sticky to: the case id
    bucket: ColumnElement[str]
    dpd: ColumnElement[int]
    outstanding: ColumnElement[object]
    tier: ColumnElement[str | None]
    quadrant: ColumnElement[str | None]


def condition(when: When, c: SnapshotColumns) -> ColumnElement[bool]:
    """``when.holds`` as a predicate; a NULL tier or quadrant is in no list, as in Python."""
    parts: list[ColumnElement[bool]] = []
    if when.buckets is not None:
        parts.append(c.bucket.in_(sorted(when.buckets)))
    if when.tiers is not None:
        parts.append(sa.func.coalesce(c.tier.in_(sorted(when.tiers)), sa.false()))
    if when.quadrants is not None:
        parts.append(sa.func.coalesce(c.quadrant.in_(sorted(when.quadrants)), sa.false()))
    if when.min_outstanding is not None:
        parts.append(c.outstanding >= when.min_outstanding)
    if when.max_outstanding is not None:
        parts.append(c.outstanding <= when.max_outstanding)
    if when.min_dpd is not None:
        parts.append(c.dpd >= when.min_dpd)
    if when.max_dpd is not None:
        parts.append(c.dpd <= when.max_dpd)
    return sa.and_(sa.true(), *parts)


def segment_of(strategy: Strategy, c: SnapshotColumns) -> ColumnElement[str | None]:
    """The first matching segment's name, NULL when none matches."""
    if not strategy.segments:
        return sa.null()  # type: ignore[return-value]  # a NULL of any type
    return sa.case(*((condition(s.when, c), s.name) for s in strategy.segments), else_=sa.null())


def _draw(
    strategy_id: str, version: int, segment: str, key: ColumnElement[str]
) -> ColumnElement[int]:
    """:func:`domain.strategy.draw` in SQL: the first 60 bits of SHA-256 of the same key."""
    sep = "\x1f"
    text = sa.func.concat(f"{strategy_id}{sep}{version}{sep}{segment}{sep}", key)
    hex_digits = sa.func.substr(
        sa.func.encode(sa.func.sha256(sa.func.convert_to(text, "UTF8")), "hex"), 1, DRAW_BITS // 4
    )
    bits = sa.cast(sa.literal("x") + hex_digits, BIT(DRAW_BITS))
    return sa.cast(bits, sa.BigInteger)


def _variant_in(
    strategy_id: str, version: int, segment: Segment, key: ColumnElement[str]
) -> ColumnElement[str | None]:
    if len(segment.variants) == 1:
        return sa.literal(segment.variants[0].name, sa.String)
    point, running, arms = _draw(strategy_id, version, segment.name, key), Decimal(0), []
    for variant in segment.variants[:-1]:
        running += variant.share
        arms.append((point < sa.literal(threshold(running), sa.BigInteger), variant.name))
    return sa.case(*arms, else_=sa.literal(segment.variants[-1].name, sa.String))


def variant_of(
    strategy: Strategy, *, strategy_id: str, version: int, c: SnapshotColumns
) -> ColumnElement[str | None]:
    """The variant :func:`assign_variant` gives the row's key in its first matching segment."""
    if not strategy.segments:
        return sa.null()  # type: ignore[return-value]  # a NULL of any type
    arms = [
        (condition(s.when, c), _variant_in(strategy_id, version, s, c.key))
        for s in strategy.segments
    ]
    return sa.case(*arms, else_=sa.null())
