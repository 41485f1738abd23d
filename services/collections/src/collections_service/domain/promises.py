"""A promise to pay in instalments (BRIEF decision 11): what it comes to, and which instalment
a borrower missed.

A promise is one amount by one date, or instalments ``[{"amount", "due_on"}]`` whose sum is the
promise's ``amount`` and whose last date is its ``due_on``. Payments count towards the promise
as a whole, oldest instalment first; each instalment is judged at the close of its due date:
the promise holds while what was paid covers every instalment due so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise


@dataclass(frozen=True, slots=True)
class Instalment:
    amount: Decimal
    due_on: date


def check_instalments(
    instalments: Sequence[Instalment], amount: Decimal, due_on: date
) -> list[tuple[str, str]]:
    """What is wrong with the instalments of a promise of ``amount`` by ``due_on``: (field,
    message) pairs, empty when they hold."""
    errors: list[tuple[str, str]] = []
    dates = [i.due_on for i in instalments]
    if any(later <= earlier for earlier, later in pairwise(dates)):
        errors.append(("instalments", "due dates must be in order, one instalment a day"))
    if instalments and dates[-1] != due_on:
        errors.append(("due_on", "must be the last instalment's due date"))
    total = sum((i.amount for i in instalments), Decimal("0.00"))
    if instalments and total != amount:
        errors.append(("amount", f"must be the instalments' sum, {total}"))
    return errors


def missed(instalments: Sequence[Instalment], paid: Decimal, closed_before: date) -> date | None:
    """The due date of the first instalment, among those due before ``closed_before``, that
    what was ``paid`` does not cover (counted from the first instalment on); None if none."""
    owed = Decimal("0.00")
    for instalment in instalments:
        if instalment.due_on >= closed_before:
            return None
        owed += instalment.amount
        if paid < owed:
            return instalment.due_on
    return None
