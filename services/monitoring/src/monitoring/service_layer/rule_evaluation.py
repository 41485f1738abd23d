"""Use cases of early warnings (预警): evaluate the enabled rules and raise the alerts they fire.

Rules are evaluated where their facts change: at end of day for a date (set-based over the
portfolio), on each applied payment, on each stored bureau report, on contact updates and on
broken promises. Finding the alerts a rule version fires over stored history is shared with
the back-test, so that both see the same alerts. At most one alert per rule and loan is open:
a rule firing on a loan with an open (or acknowledged) alert of the rule raises nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters import alerts_sql, bureau_sql, business_date, rule_facts_sql, rules_sql
from monitoring.domain import rules
from monitoring.domain.alerts import Alert
from monitoring.domain.bureau import ReportOnLoans
from monitoring.domain.rules import Evidence, FiredAlert, Params, RuleVersion, Trigger
from monitoring.service_layer import SOURCE
from monitoring.service_layer.rules import rules_for
from shared.events import AlertRaised, CloudEvent, ContactUpdated, PromiseBroken, make_event
from shared.messaging.outbox import enqueue

log = logging.getLogger(__name__)


async def raise_alerts(
    session: AsyncSession, version: RuleVersion, fired: Sequence[FiredAlert]
) -> int:
    """Store the alerts a rule version fired as open and announce each new one; the number
    raised."""
    if not fired:
        return 0
    raised = await alerts_sql.insert_alerts(session, version, fired)
    await enqueue(session, [_announcement(alert) for alert in raised])
    return len(raised)


def _announcement(alert: Alert) -> CloudEvent:
    payload = AlertRaised(
        alert_id=uuid.UUID(alert.alert_id),
        loan_id=alert.loan_id,
        rule=alert.rule,
        rule_version=alert.rule_version,
        severity=alert.severity,
        evidence=alert.evidence,
        raised_at=alert.raised_at,
    )
    return make_event(payload, source=SOURCE, subject=alert.loan_id)


# --- end of day ----------------------------------------------------------------------------


async def evaluate_date_rules(session: AsyncSession, as_of: date) -> int:
    """Raise the end-of-day rules' alerts for ``as_of``; the number raised.

    Called by the end-of-day batch after DPD, buckets and the day's delinquency snapshot are
    written, in its transaction.
    """
    raised = 0
    for version in await rules_sql.enabled_versions(session, rules_for(Trigger.END_OF_DAY)):
        fired = await date_rule_alerts(session, version, first=as_of, last=as_of)
        raised += await raise_alerts(session, version, fired)
    return raised


async def date_rule_alerts(
    session: AsyncSession, version: RuleVersion, *, first: date, last: date
) -> list[FiredAlert]:
    """The alerts an end-of-day rule version fires on the dates ``first`` .. ``last``."""
    p = version.params
    if version.rule == "partial_payment_at_due":
        facts = await rule_facts_sql.partly_paid_instalments(
            session, first=first, last=last, grace_days=p["grace_days"]
        )
        evaluate = rules.partial_payment_at_due
    elif version.rule == "first_payment_default":
        facts = await rule_facts_sql.unpaid_first_instalments(
            session, first=first, last=last, days_after_due=p["days_after_due"]
        )
        evaluate = rules.first_payment_default
    else:
        raise ValueError(f"{version.rule} is not an end-of-day rule")
    evaluated = ((f, evaluate(f, p)) for f in facts)
    return [FiredAlert(f.loan_id, f.evaluated_on, e) for f, e in evaluated if e is not None]


# --- payments ------------------------------------------------------------------------------


async def evaluate_payment(session: AsyncSession, payment_id: str) -> int:
    """Raise the payment rules' alerts for one applied payment; the number raised."""
    raised = 0
    for version in await rules_sql.enabled_versions(session, rules_for(Trigger.PAYMENT)):
        fired = await payment_rule_alerts(session, version, payment_id=payment_id)
        raised += await raise_alerts(session, version, fired)
    return raised


async def payment_rule_alerts(
    session: AsyncSession,
    version: RuleVersion,
    *,
    payment_id: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[FiredAlert]:
    """The alerts a payment rule version fires: on one payment, or on those booked in range."""
    if version.rule != "shrinking_repayments":
        raise ValueError(f"{version.rule} is not a payment rule")
    p = version.params
    windows = await rule_facts_sql.shrinking_payment_windows(
        session, n=p["payments"], payment_id=payment_id, first=first, last=last
    )
    evaluated = ((w, rules.shrinking_repayments(w, p)) for w in windows)
    return [FiredAlert(w.loan_id, w.booked_on, e) for w, e in evaluated if e is not None]


# --- bureau reports ------------------------------------------------------------------------

_BUREAU: dict[str, Callable[[ReportOnLoans, Params], Evidence | None]] = {
    "bureau_score_drop": lambda r, p: rules.bureau_score_drop(r.current, r.previous, p),
    "multi_lending": lambda r, p: rules.multi_lending(r.current, r.previous, p),
    "delinquency_elsewhere": lambda r, p: rules.delinquency_elsewhere(r.current, p),
}


def bureau_rule_alerts(version: RuleVersion, reports: Sequence[ReportOnLoans]) -> list[FiredAlert]:
    """The alerts a bureau rule version fires: on every loan on the book of the borrower."""
    evaluate = _BUREAU[version.rule]
    fired = []
    for report in reports:
        evidence = evaluate(report, version.params)
        if evidence is not None:
            fired += [
                FiredAlert(loan_id, report.reported_on, evidence) for loan_id in report.loan_ids
            ]
    return fired


async def evaluate_bureau_report(
    session: AsyncSession, borrower_id: str, reported_at: datetime
) -> int:
    """Raise the bureau rules' alerts for one stored report; the number raised."""
    report = await bureau_sql.report_on_loans(session, borrower_id, reported_at)
    if report is None:
        return 0
    raised = 0
    for version in await rules_sql.enabled_versions(session, rules_for(Trigger.BUREAU)):
        raised += await raise_alerts(session, version, bureau_rule_alerts(version, [report]))
    return raised


# --- contact data and promises -------------------------------------------------------------


async def apply_contact_update(session: AsyncSession, update: ContactUpdated) -> int:
    """Record a borrower's new contact data and validity; raise contact_lost if none is left."""
    state = await rule_facts_sql.update_contact(
        session, update.borrower_id, _contact_changes(update), updated_at=update.updated_at
    )
    if state is None:
        log.warning("contact update for unknown borrower %s ignored", update.borrower_id)
        return 0
    evidence = rules.contact_lost(state)
    if evidence is None:
        return 0
    loans = await rule_facts_sql.open_loans_of(session, update.borrower_id)
    return await _raise_on_loans(session, "contact_lost", loans, evidence)


def _contact_changes(update: ContactUpdated) -> dict[str, object]:
    """The columns to change. A new phone or e-mail is presumed valid unless said otherwise."""
    changes = update.model_dump(
        include={"phone", "email", "phone_valid", "email_valid", "time_zone", "locale"},
        exclude_none=True,
    )
    if update.phone is not None and update.phone_valid is None:
        changes["phone_valid"] = True
    if update.email is not None and update.email_valid is None:
        changes["email_valid"] = True
    return changes


async def record_broken_promise(session: AsyncSession, promise: PromiseBroken) -> int:
    """Raise broken_promise on the loan collections reported a broken promise for."""
    if not await rule_facts_sql.loan_exists(session, promise.loan_id):
        log.warning("broken promise on unknown loan %s ignored", promise.loan_id)
        return 0
    facts = rules.BrokenPromise(
        str(promise.promise_id), promise.promised_amount, promise.promised_on
    )
    return await _raise_on_loans(
        session, "broken_promise", [promise.loan_id], rules.broken_promise(facts)
    )


async def _raise_on_loans(
    session: AsyncSession, rule: str, loan_ids: Sequence[str], evidence: Evidence
) -> int:
    today = await business_date.current(session)
    if not loan_ids or today is None:
        return 0
    raised = 0
    for version in await rules_sql.enabled_versions(session, [rule]):
        fired = [FiredAlert(loan_id, today, evidence) for loan_id in loan_ids]
        raised += await raise_alerts(session, version, fired)
    return raised
