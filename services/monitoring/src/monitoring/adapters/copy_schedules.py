"""Contract schedules as COPY lines and event JSON, from text cached by contract and due date."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import orjson

from monitoring.domain.import_schedules import contract_cents
from monitoring.domain.imports import LoanIn
from monitoring.domain.schedule import due_dates

#: What an instalment has paid when none of it is: principal, interest, fees (COPY text).
PAID_NOTHING = "0.00\t0.00\t0.00"


def contract_schedule(loan: LoanIn, instalments: list[str]) -> orjson.Fragment:
    """The contract schedule of a loan that carries none: its COPY lines are added to
    ``instalments`` (one string for the loan), and its JSON for the event is returned.

    Both come from text cached by contract (the amounts) and by first due date (templates
    with the dates written in): a loan costs two ``%`` and a ``replace``, no Decimal and no
    loop over its instalments in Python.
    """
    cents = contract_cents(loan.principal, loan.annual_rate, loan.term_months, loan.method)
    amounts = tuple(cents.split(" "))
    lines, objects = _templates(loan.due_from, loan.term_months)
    instalments.append((lines % amounts).replace("\x00", loan.loan_id))
    return orjson.Fragment(objects % amounts)


def _templates(first_due_on: date, term: int) -> tuple[str, str]:
    if term > LONGEST_TEMPLATE_CACHED:
        return _schedule_templates.__wrapped__(first_due_on, term)
    return _schedule_templates(first_due_on, term)


# By first due date and term: ~130 B an instalment, ~7 MB for 4,096 of 12 instalments; longer
# terms than 5 years are written for each loan, so that the cache stays small in bytes too.
TEMPLATES_CACHED = 4_096
LONGEST_TEMPLATE_CACHED = 60


@lru_cache(maxsize=TEMPLATES_CACHED)
def _schedule_templates(first_due_on: date, term: int) -> tuple[str, str]:
    """COPY lines and event JSON of the schedule of ``term`` months from ``first_due_on``:
    ``%s`` for each principal and interest (:func:`contract_cents`' order), NUL for the loan
    id (an id cannot hold one: the API's pattern)."""
    days = [d.isoformat() for d in due_dates(first_due_on, term)]
    lines = "".join(
        f"\x00\t{seq}\t{day}\t%s\t%s\t0.00\t{PAID_NOTHING}\n"
        for seq, day in enumerate(days, start=1)
    )
    objects = ",".join(
        f'{{"seq":{seq},"due_on":"{day}","principal":"%s","interest":"%s","fees":"0.00"}}'
        for seq, day in enumerate(days, start=1)
    )
    return lines, f"[{objects}]"
