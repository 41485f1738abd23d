"""Portfolio analytics rules: month-ends, roll-rate matrices, cure rates, vintage curves.

The figures come from the daily delinquency snapshots (one row per open loan per business
date). The conventions:

- **month-end** of a month is the last business date of that month with a snapshot;
- **balance** is outstanding principal; a roll rate by balance weighs each loan by its balance
  at the *first* month-end, so a row of the matrix sums to 1 (with the ``exit`` column);
- a loan in no snapshot at the later month-end has left the book (settled, written off,
  closed): it goes to the ``exit`` column, never to ``C``;
- **cure rate**: the share of loans in a delinquent bucket at one month-end that are back in
  the current bucket at the next;
- **vintage**: loans by disbursement month; at months on book *m* (0 = the disbursement month)
  the cumulative rate is the share of the vintage seen at DPD ≥ 30 (or ≥ 90) at any month-end
  up to and including the month-end *m* months later.

Rates are exact decimals rounded half-up to four places; a rate over nothing is ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

RATE_PLACES = Decimal("0.0001")
EXIT = "exit"
ZERO = Decimal("0.00")


def rate(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def month_of(day: date) -> date:
    return day.replace(day=1)


def months_between(first_month: date, later_month: date) -> int:
    return (later_month.year - first_month.year) * 12 + later_month.month - first_month.month


def month_ends(snapshot_dates: Iterable[date]) -> dict[date, date]:
    """The last snapshot date of each month, keyed by the month's first day."""
    ends: dict[date, date] = {}
    for day in sorted(snapshot_dates):
        ends[month_of(day)] = day
    return ends


def parse_month(text: str) -> date:
    """``YYYY-MM`` to the month's first day; ValueError when malformed."""
    year, sep, month = text.partition("-")
    if not sep or len(year) != 4 or len(month) != 2 or not (year + month).isdigit():
        raise ValueError(f"{text!r} is not a month (YYYY-MM)")
    return date(int(year), int(month), 1)


# --- bucket distribution -------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    count: int
    outstanding: Decimal
    outstanding_total: Decimal


EMPTY = Tally(0, ZERO, ZERO)


def ordered(names: Iterable[str], scale: Sequence[str]) -> list[str]:
    """The scale's names first, in order, then any other name met (an old configuration)."""
    seen = set(names)
    return list(scale) + sorted(seen - set(scale))


# --- transitions between two month-ends ----------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """Loans in ``from_bucket`` at the first month-end and ``to_bucket`` at the second."""

    from_bucket: str
    to_bucket: str  # a bucket, or EXIT
    count: int
    balance: Decimal  # outstanding principal at the first month-end


@dataclass(frozen=True)
class RollCell:
    to_bucket: str
    count: int
    balance: Decimal
    count_rate: Decimal | None
    balance_rate: Decimal | None


@dataclass(frozen=True)
class RollRow:
    from_bucket: str
    count: int
    balance: Decimal
    to: list[RollCell]


def roll_matrix(transitions: Iterable[Transition], scale: Sequence[str]) -> list[RollRow]:
    """A full matrix: a row per bucket, a cell per bucket and ``exit``, zeros included."""
    cells = {(t.from_bucket, t.to_bucket): t for t in transitions}
    names = ordered({k for pair in cells for k in pair if k != EXIT}, scale)
    rows = []
    for source in names:
        line = [cells.get((source, target)) for target in [*names, EXIT]]
        count = sum(t.count for t in line if t)
        balance = sum((t.balance for t in line if t), ZERO)
        to = [
            RollCell(
                to_bucket=target,
                count=t.count if t else 0,
                balance=t.balance if t else ZERO,
                count_rate=rate(t.count if t else 0, count),
                balance_rate=rate(t.balance if t else ZERO, balance),
            )
            for target, t in zip([*names, EXIT], line, strict=True)
        ]
        rows.append(RollRow(source, count, balance, to))
    return rows


@dataclass(frozen=True)
class Cure:
    from_bucket: str
    count: int
    cured: int
    exited: int
    balance: Decimal
    cured_balance: Decimal

    @property
    def rate(self) -> Decimal | None:
        return rate(self.cured, self.count)

    @property
    def balance_rate(self) -> Decimal | None:
        return rate(self.cured_balance, self.balance)


def cures(transitions: Iterable[Transition], scale: Sequence[str]) -> list[Cure]:
    """Per delinquent bucket at the first month-end: how many were current at the next."""
    current = scale[0]
    result = []
    for row in roll_matrix(transitions, scale):
        if row.from_bucket == current:
            continue
        by_target = {c.to_bucket: c for c in row.to}
        cured = by_target[current]
        exited = by_target[EXIT]
        result.append(
            Cure(row.from_bucket, row.count, cured.count, exited.count, row.balance, cured.balance)
        )
    return result


def total_cure(items: Sequence[Cure]) -> Cure:
    return Cure(
        "all",
        sum(c.count for c in items),
        sum(c.cured for c in items),
        sum(c.exited for c in items),
        sum((c.balance for c in items), ZERO),
        sum((c.cured_balance for c in items), ZERO),
    )


# --- vintages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VintagePoint:
    months_on_book: int
    as_of: date
    bad: int
    bad_principal: Decimal
    rate: Decimal | None
    principal_rate: Decimal | None


@dataclass(frozen=True)
class Vintage:
    vintage: date  # the disbursement month's first day
    loans: int
    principal: Decimal
    points: list[VintagePoint]


def vintage_curve(
    *,
    vintage: date,
    loans: int,
    principal: Decimal,
    ends: dict[date, date],
    first_bad: dict[date, tuple[int, Decimal]],
) -> Vintage:
    """Cumulative bad count per month-end from the vintage's month on.

    ``first_bad`` maps a month to the loans (and their disbursed principal) of this vintage
    first seen bad at that month's month-end.
    """
    points = []
    bad, bad_principal = 0, ZERO
    for month in sorted(m for m in ends if m >= vintage):
        new, new_principal = first_bad.get(month, (0, ZERO))
        bad, bad_principal = bad + new, bad_principal + new_principal
        points.append(
            VintagePoint(
                months_on_book=months_between(vintage, month),
                as_of=ends[month],
                bad=bad,
                bad_principal=bad_principal,
                rate=rate(bad, loans),
                principal_rate=rate(bad_principal, principal),
            )
        )
    return Vintage(vintage, loans, principal, points)
