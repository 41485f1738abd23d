"""Use cases of early warnings (预警): evaluate the enabled rules and raise alerts.

Rules are evaluated where their facts change: at end of day for a date (set-based over the
portfolio), on each applied payment, on each stored bureau report, on contact updates and on
broken promises. Finding the hits of a rule version over stored history is shared with the
back-test, so that both see the same alerts. At most one alert per rule and loan is open: a
hit on a loan with an open (or acknowledged) alert of the rule raises nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters import alerts_sql, bureau_sql, business_date
from monitoring.domain import rules
from monitoring.domain.bureau import ReportOnLoans
from monitoring.domain.rules import RULES, Evidence, Hit, Params, RuleVersion, Trigger
from shared.events import AlertRaised, CloudEvent, ContactUpdated, PromiseBroken, make_event
from shared.messaging.outbox import enqueue
from shared.problems import Conflict, NotFound, Problem

log = logging.getLogger(__name__)

SOURCE = "postloan/monitoring"


def rules_for(trigger: Trigger) -> list[str]:
    return [name for name, definition in RULES.items() if definition.trigger is trigger]


async def seed_rules(session: AsyncSession) -> None:
    """Store version 1 of every rule (defaults, enabled) where it is missing."""
    await alerts_sql.seed_rules(session, RULES.values())


async def raise_alerts(session: AsyncSession, version: RuleVersion, hits: Sequence[Hit]) -> int:
    """Store hits as open alerts and announce each new one; the number raised."""
    if not hits:
        return 0
    raised = await alerts_sql.insert_alerts(session, version, hits)
    await enqueue(session, [_announcement(row) for row in raised])
    return len(raised)


def _announcement(row: dict[str, Any]) -> CloudEvent:
    payload = AlertRaised(
        alert_id=uuid.UUID(row["alert_id"]),
        loan_id=row["loan_id"],
        rule=row["rule"],
        rule_version=row["rule_version"],
        severity=row["severity"],
        evidence=row["evidence"],
        raised_at=row["raised_at"],
    )
    return make_event(payload, source=SOURCE, subject=row["loan_id"])


# --- end of day ----------------------------------------------------------------------------


async def evaluate_date_rules(session: AsyncSession, as_of: date) -> int:
    """Raise the end-of-day rules' alerts for ``as_of``; the number raised.

    Called by the end-of-day batch after DPD, buckets and the day's delinquency snapshot are
    written, in its transaction.
    """
    raised = 0
    for version in await alerts_sql.enabled_versions(session, rules_for(Trigger.END_OF_DAY)):
        hits = await date_rule_hits(session, version, first=as_of, last=as_of)
        raised += await raise_alerts(session, version, hits)
    return raised


async def date_rule_hits(
    session: AsyncSession, version: RuleVersion, *, first: date, last: date
) -> list[Hit]:
    """Where an end-of-day rule version fires on the dates ``first`` .. ``last``."""
    p = version.params
    if version.rule == "partial_payment_at_due":
        facts = await alerts_sql.partly_paid_instalments(
            session, first=first, last=last, grace_days=p["grace_days"]
        )
        evaluate = rules.partial_payment_at_due
    elif version.rule == "first_payment_default":
        facts = await alerts_sql.unpaid_first_instalments(
            session, first=first, last=last, days_after_due=p["days_after_due"]
        )
        evaluate = rules.first_payment_default
    else:
        raise ValueError(f"{version.rule} is not an end-of-day rule")
    hits = ((f, evaluate(f, p)) for f in facts)
    return [Hit(f.loan_id, f.evaluated_on, e) for f, e in hits if e is not None]


# --- payments ------------------------------------------------------------------------------


async def evaluate_payment(session: AsyncSession, payment_id: str) -> int:
    """Raise the payment rules' alerts for one applied payment; the number raised."""
    raised = 0
    for version in await alerts_sql.enabled_versions(session, rules_for(Trigger.PAYMENT)):
        hits = await payment_rule_hits(session, version, payment_id=payment_id)
        raised += await raise_alerts(session, version, hits)
    return raised


async def payment_rule_hits(
    session: AsyncSession,
    version: RuleVersion,
    *,
    payment_id: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[Hit]:
    """Where a payment rule version fires: on one payment, or on those booked in a range."""
    if version.rule != "shrinking_repayments":
        raise ValueError(f"{version.rule} is not a payment rule")
    p = version.params
    windows = await alerts_sql.shrinking_payment_windows(
        session, n=p["payments"], payment_id=payment_id, first=first, last=last
    )
    hits = ((w, rules.shrinking_repayments(w, p)) for w in windows)
    return [Hit(w.loan_id, w.booked_on, e) for w, e in hits if e is not None]


# --- bureau reports ------------------------------------------------------------------------

_BUREAU: dict[str, Callable[[ReportOnLoans, Params], Evidence | None]] = {
    "bureau_score_drop": lambda r, p: rules.bureau_score_drop(r.current, r.previous, p),
    "multi_lending": lambda r, p: rules.multi_lending(r.current, r.previous, p),
    "delinquency_elsewhere": lambda r, p: rules.delinquency_elsewhere(r.current, p),
}


def bureau_rule_hits(version: RuleVersion, reports: Sequence[ReportOnLoans]) -> list[Hit]:
    """Where a bureau rule version fires: on every loan on the book of the borrower."""
    evaluate = _BUREAU[version.rule]
    hits = []
    for report in reports:
        evidence = evaluate(report, version.params)
        if evidence is not None:
            hits += [Hit(loan_id, report.reported_on, evidence) for loan_id in report.loan_ids]
    return hits


async def evaluate_bureau_report(
    session: AsyncSession, borrower_id: str, reported_at: datetime
) -> int:
    """Raise the bureau rules' alerts for one stored report; the number raised."""
    report = await bureau_sql.report_on_loans(session, borrower_id, reported_at)
    if report is None:
        return 0
    raised = 0
    for version in await alerts_sql.enabled_versions(session, rules_for(Trigger.BUREAU)):
        raised += await raise_alerts(session, version, bureau_rule_hits(version, [report]))
    return raised


# --- contact data and promises -------------------------------------------------------------


async def apply_contact_update(session: AsyncSession, update: ContactUpdated) -> int:
    """Record a borrower's new contact data and validity; raise contact_lost if none is left."""
    state = await alerts_sql.update_contact(
        session, update.borrower_id, _contact_changes(update), updated_at=update.updated_at
    )
    if state is None:
        log.warning("contact update for unknown borrower %s ignored", update.borrower_id)
        return 0
    evidence = rules.contact_lost(state)
    if evidence is None:
        return 0
    loans = await alerts_sql.open_loans_of(session, update.borrower_id)
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
    if not await alerts_sql.loan_exists(session, promise.loan_id):
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
    for version in await alerts_sql.enabled_versions(session, [rule]):
        hits = [Hit(loan_id, today, evidence) for loan_id in loan_ids]
        raised += await raise_alerts(session, version, hits)
    return raised


# --- the alert workflow: open → acknowledged → resolved -------------------------------------


async def list_alerts(
    session: AsyncSession,
    *,
    filters: dict[str, str],
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Alerts newest first, filtered, after the keyset cursor ``after``, at most ``limit``."""
    return await alerts_sql.list_alerts(session, filters=filters, after=after, limit=limit)


async def get_alert(session: AsyncSession, alert_id: str) -> dict[str, Any]:
    alert = await alerts_sql.get_alert(session, alert_id)
    if alert is None:
        raise NotFound("alert", alert_id)
    return alert


async def acknowledge_alert(session: AsyncSession, alert_id: str, actor: str) -> dict[str, Any]:
    """Take an open alert in hand (409 once acknowledged or resolved)."""
    values = {"status": "acknowledged", "acknowledged_by": actor, "acknowledged_at": func.now()}
    return await _move(session, alert_id, ("open",), values)


async def resolve_alert(session: AsyncSession, alert_id: str, actor: str) -> dict[str, Any]:
    """Close an open or acknowledged alert (409 once resolved); the rule may fire again."""
    values = {"status": "resolved", "resolved_by": actor, "resolved_at": func.now()}
    return await _move(session, alert_id, ("open", "acknowledged"), values)


async def _move(
    session: AsyncSession, alert_id: str, allowed_from: tuple[str, ...], values: dict[str, Any]
) -> dict[str, Any]:
    moved = await alerts_sql.move_alert(session, alert_id, allowed_from=allowed_from, values=values)
    if moved is not None:
        return moved
    current = await get_alert(session, alert_id)
    raise Conflict(
        f"alert {alert_id} is {current['status']}, not {' or '.join(allowed_from)}",
        alert_status=current["status"],
    )


# --- rule versions -------------------------------------------------------------------------


def definition_of(rule: str) -> rules.RuleDefinition:
    definition = RULES.get(rule)
    if definition is None:
        raise NotFound("rule", rule)
    return definition


async def rule_versions(session: AsyncSession, rule: str | None = None) -> list[dict[str, Any]]:
    """Stored versions of one rule (404 for an unknown rule) or of all of them."""
    if rule is not None:
        definition_of(rule)
    return await alerts_sql.versions(session, rule)


async def create_rule_version(
    session: AsyncSession,
    rule: str,
    *,
    params: dict[str, object],
    severity: rules.Severity | None,
    enabled: bool,
) -> dict[str, Any]:
    """Store the next version of a rule: ``params`` over the latest version's parameters."""
    definition = definition_of(rule)
    existing = await alerts_sql.lock_versions(session, rule)
    latest = existing[-1] if existing else None
    try:
        merged = rules.parse_params(definition, params, latest.params if latest else {})
    except rules.InvalidParams as exc:
        raise Problem(
            422,
            "Invalid rule parameters",
            str(exc),
            errors=[{"field": f, "message": m} for f, m in exc.errors],
        ) from None
    version = RuleVersion(
        rule=rule,
        version=latest.version + 1 if latest else 1,
        params=merged,
        severity=severity or (latest.severity if latest else definition.severity),
        enabled=False,
    )
    await alerts_sql.insert_version(session, version)
    if enabled:
        await alerts_sql.enable_only(session, rule, version.version)
    return await _stored(session, rule, version.version)


async def set_rule_version_enabled(
    session: AsyncSession, rule: str, version: int, *, enabled: bool
) -> dict[str, Any]:
    """Enable a version (every other version of the rule is disabled), or disable it."""
    definition_of(rule)
    existing = await alerts_sql.lock_versions(session, rule)
    target = next((v for v in existing if v.version == version), None)
    if target is None:
        raise NotFound("rule version", f"{rule}/{version}")
    if enabled:
        await alerts_sql.enable_only(session, rule, version)
    elif target.enabled:
        await alerts_sql.enable_only(session, rule, None)
    return await _stored(session, rule, version)


async def get_rule_version(session: AsyncSession, rule: str, version: int) -> RuleVersion:
    definition_of(rule)
    found = await alerts_sql.get_version(session, rule, version)
    if found is None:
        raise NotFound("rule version", f"{rule}/{version}")
    return found


async def _stored(session: AsyncSession, rule: str, version: int) -> dict[str, Any]:
    return next(v for v in await alerts_sql.versions(session, rule) if v["version"] == version)
