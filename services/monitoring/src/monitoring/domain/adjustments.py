"""What an accepted offer takes off a loan: each instalment's relief, by part.

An offer's ``amount`` comes off what the loan owes *on the business date* (its outstanding, see
:mod:`.payoff`), so the loan's outstanding falls by exactly that amount. Each kind takes from
its own parts, in order, and refuses an amount larger than they hold:

- ``penalty_waiver``: penalty still owed (oldest instalment first); then, for penalty already
  paid (a loan that cured by paying it), a credit of that much off the principal of the last
  instalments. What was paid as penalty can be credited once.
- ``interest_discount`` and ``points_redemption``: interest due and unpaid (oldest first), then
  a credit off the principal of the last instalments, as long as the loan's interest still to
  pay (due or not) covers the whole discount: a discount never exceeds the interest.
- ``settlement``: penalty, fees due, interest due, then principal from the last instalment.
- ``instalment_plan``: penalty, fees due and interest due (a plan reschedules, the principal
  stays owed).

Relief lowers what an instalment *owes*; it is not a payment (no money came in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from monitoring.domain.payoff import ZERO, Due, Part, Parts

Step = tuple[Part, bool, bool]  # the part, due instalments only, last instalment first

_PENALTY: Step = (Part.PENALTY, False, False)
_FEES_DUE: Step = (Part.FEES, True, False)
_INTEREST_DUE: Step = (Part.INTEREST, True, False)
_CREDIT: Step = (Part.PRINCIPAL, False, True)

#: The parts each kind takes from, in order; a principal step of a waiver or discount is the
#: credit in lieu of what was paid (penalty) or is not due yet (interest).
ORDER: dict[str, tuple[Step, ...]] = {
    "penalty_waiver": (_PENALTY, _CREDIT),
    "interest_discount": (_INTEREST_DUE, _CREDIT),
    "points_redemption": (_INTEREST_DUE, _CREDIT),
    "settlement": (_PENALTY, _FEES_DUE, _INTEREST_DUE, _CREDIT),
    "instalment_plan": (_PENALTY, _FEES_DUE, _INTEREST_DUE),
}
#: Kinds whose principal step is a credit in lieu of another part, bounded by ``creditable``.
CREDITED: dict[str, Part] = {
    "penalty_waiver": Part.PENALTY,
    "interest_discount": Part.INTEREST,
    "points_redemption": Part.INTEREST,
}


@dataclass(frozen=True)
class Relief:
    """What comes off each instalment (by ``seq``), and how much of it is a principal credit."""

    lines: dict[int, Parts]
    credit: Decimal

    @property
    def total(self) -> Decimal:
        return sum((p.total for p in self.lines.values()), ZERO)


@dataclass(frozen=True)
class Refusal:
    reason: str


def creditable(dues: Sequence[Due], kind: str, credited_before: Decimal) -> Decimal | None:
    """How much of a credit ``kind`` may still take off principal; None when not bounded."""
    part = CREDITED.get(kind)
    if part is None:
        return None
    if part is Part.PENALTY:
        base = sum((d.paid.penalty for d in dues), ZERO)
    else:  # the interest still to pay, due or not, less what a credit took in its place
        base = sum((d.remaining.interest for d in dues), ZERO)
    return max(base - credited_before, ZERO)


def relieve(
    dues: Sequence[Due], kind: str, amount: Decimal, as_of: date, *, credited_before: Decimal
) -> Relief | Refusal:
    """The relief of ``amount`` of ``kind`` on ``as_of``, or why it cannot be booked."""
    cap = creditable(dues, kind, credited_before)
    if cap is not None and kind != "penalty_waiver":
        if amount > cap:
            return Refusal(f"the loan has {cap} of interest left; {amount} is more")
        cap = None  # the whole discount is within the interest: credit what is not due
    lines: dict[int, Parts] = {}
    left, credit = amount, ZERO
    for part, due_only, newest_first in ORDER[kind]:
        limit = left if cap is None or part is not Part.PRINCIPAL else min(left, cap)
        taken = _take(dues, lines, part, as_of, limit, due_only=due_only, newest=newest_first)
        left -= taken
        if part is Part.PRINCIPAL:
            credit += taken
    if left > ZERO:
        return Refusal(f"{kind} of {amount} exceeds what the loan owes of it by {left}")
    return Relief({seq: p for seq, p in lines.items() if not p.is_zero}, credit)


def _take(
    dues: Sequence[Due],
    lines: dict[int, Parts],
    part: Part,
    as_of: date,
    amount: Decimal,
    *,
    due_only: bool,
    newest: bool,
) -> Decimal:
    """Take up to ``amount`` of ``part`` from the instalments, recording it in ``lines``."""
    taken = ZERO
    for due in sorted(dues, key=lambda d: d.seq, reverse=newest):
        if taken >= amount:
            break
        if due_only and due.due_on > as_of:
            continue
        line = lines.get(due.seq, Parts())
        room = due.remaining[part] - line[part]
        bite = min(room, amount - taken)
        if bite > ZERO:
            lines[due.seq] = line.set(part, line[part] + bite)
            taken += bite
    return taken
