"""Use case: back-test a rule version over stored history, raising nothing.

The hits are found by the same queries and evaluations as live evaluation, over a range of
business dates instead of one date, payment or report; then, as the one-open-alert rule would,
only the first hit per loan is kept. So a back-test of a range returns the alerts live
evaluation raised over it, as long as no alert of the rule was open at its start or resolved
during it, and no payment in it has been reversed since.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters import bureau_sql
from monitoring.domain.rules import Hit, RuleVersion, Trigger, first_per_loan
from monitoring.service_layer import alerts
from shared.problems import Problem

#: The longest range a back-test covers, in days.
MAX_DAYS = 366


@dataclass(frozen=True)
class Backtest:
    version: RuleVersion
    first: date
    last: date
    hits: list[Hit]


async def backtest(
    session: AsyncSession, rule: str, version: int, *, first: date, last: date
) -> Backtest:
    """The alerts ``rule`` version ``version`` would have raised from ``first`` to ``last``."""
    await session.execute(sa.text("SET TRANSACTION READ ONLY"))
    stored = await alerts.get_rule_version(session, rule, version)
    if not stored.definition.backtestable:
        raise Problem(
            422,
            "Rule cannot be back-tested",
            f"{rule} is evaluated on {stored.definition.trigger} events, whose history "
            "monitoring does not keep",
        )
    if first > last or (last - first).days >= MAX_DAYS:
        raise Problem(
            422,
            "Invalid date range",
            f"from must not be after to, and the range at most {MAX_DAYS} days",
            errors=[{"field": "to", "message": f"from .. to must span 1 to {MAX_DAYS} days"}],
        )
    return Backtest(stored, first, last, first_per_loan(await _hits(session, stored, first, last)))


async def _hits(session: AsyncSession, version: RuleVersion, first: date, last: date) -> list[Hit]:
    trigger = version.definition.trigger
    if trigger is Trigger.END_OF_DAY:
        return await alerts.date_rule_hits(session, version, first=first, last=last)
    if trigger is Trigger.PAYMENT:
        return await alerts.payment_rule_hits(session, version, first=first, last=last)
    reports = await bureau_sql.reports_on_loans_between(session, first=first, last=last)
    return alerts.bureau_rule_hits(version, reports)
