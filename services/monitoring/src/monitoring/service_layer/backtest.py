"""Use case: back-test a rule version over stored history, raising nothing.

The alerts the version fires are found by the same queries and evaluations as live
evaluation, over a range of business dates instead of one date, payment or report; then, as
the one-open-alert rule would, only the first one per loan is kept. So a back-test of a range
returns the alerts live evaluation raised over it, as long as no alert of the rule was open at
its start or resolved during it, and no payment in it has been reversed since.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters import bureau_sql, transactions
from monitoring.domain.rules import FiredAlert, RuleVersion, Trigger, first_per_loan
from monitoring.service_layer import rule_evaluation
from monitoring.service_layer.rules import get_rule_version
from shared.problems import Problem

#: The longest range a back-test covers, in days.
MAX_DAYS = 366


@dataclass(frozen=True)
class Backtest:
    version: RuleVersion
    first: date
    last: date
    alerts: list[FiredAlert]


async def backtest(
    session: AsyncSession, rule: str, version: int, *, first: date, last: date
) -> Backtest:
    """The alerts ``rule`` version ``version`` would have raised from ``first`` to ``last``."""
    await transactions.read_only(session)
    stored = await get_rule_version(session, rule, version)
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
    fired = await _fired(session, stored, first, last)
    return Backtest(stored, first, last, first_per_loan(fired))


async def _fired(
    session: AsyncSession, version: RuleVersion, first: date, last: date
) -> list[FiredAlert]:
    trigger = version.definition.trigger
    if trigger is Trigger.END_OF_DAY:
        return await rule_evaluation.date_rule_alerts(session, version, first=first, last=last)
    if trigger is Trigger.PAYMENT:
        return await rule_evaluation.payment_rule_alerts(session, version, first=first, last=last)
    reports = await bureau_sql.reports_on_loans_between(session, first=first, last=last)
    return rule_evaluation.bureau_rule_alerts(version, reports)
