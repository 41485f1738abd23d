"""Persistence of rule versions and alerts, and the set-based queries that feed the rules."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters.tables import AlertRow, Base, BorrowerRow, LoanRow, RuleRow
from monitoring.domain.rules import (
    ContactState,
    Hit,
    InstalmentFacts,
    PaymentWindow,
    RuleDefinition,
    RuleVersion,
    Severity,
)
from shared.db import driver_connection

RULE = Base.metadata.tables[RuleRow.__tablename__]
ALERT = Base.metadata.tables[AlertRow.__tablename__]


# --- rule versions -------------------------------------------------------------------------


async def seed_rules(session: AsyncSession, definitions: Iterable[RuleDefinition]) -> None:
    """Version 1 of every rule, with its defaults and enabled, unless it exists already."""
    rows = [
        {"rule": d.name, "version": 1, "params": d.defaults, "severity": d.severity}
        | {"enabled": True}
        for d in definitions
    ]
    await session.execute(
        insert(RULE).values(rows).on_conflict_do_nothing(index_elements=["rule", "version"])
    )


async def versions(session: AsyncSession, rule: str | None = None) -> list[dict[str, Any]]:
    """Stored versions (with ``created_at``), by rule and version."""
    query = sa.select(RULE).order_by(RULE.c.rule, RULE.c.version)
    if rule is not None:
        query = query.where(RULE.c.rule == rule)
    return [dict(r) for r in (await session.execute(query)).mappings()]


async def lock_versions(session: AsyncSession, rule: str) -> list[RuleVersion]:
    """A rule's versions, locked until the transaction ends (version changes serialise)."""
    query = sa.select(RULE).where(RULE.c.rule == rule).order_by(RULE.c.version).with_for_update()
    return [_version(r) for r in (await session.execute(query)).mappings()]


async def get_version(session: AsyncSession, rule: str, version: int) -> RuleVersion | None:
    query = sa.select(RULE).where(RULE.c.rule == rule, RULE.c.version == version)
    row = (await session.execute(query)).mappings().one_or_none()
    return None if row is None else _version(row)


async def insert_version(session: AsyncSession, version: RuleVersion) -> None:
    await session.execute(
        sa.insert(RULE).values(
            rule=version.rule,
            version=version.version,
            params=version.params,
            severity=version.severity,
            enabled=version.enabled,
        )
    )


async def enable_only(session: AsyncSession, rule: str, version: int | None) -> None:
    """Enable ``version`` of ``rule`` and disable every other one (None disables them all)."""
    enabled = sa.false() if version is None else RULE.c.version == version
    await session.execute(sa.update(RULE).where(RULE.c.rule == rule).values(enabled=enabled))


async def enabled_versions(session: AsyncSession, rules: Iterable[str]) -> list[RuleVersion]:
    # Plain SQL: every payment and bureau event asks (shared.db.driver_connection says why).
    conn = await driver_connection(session)
    query = """
        SELECT rule, version, params, severity, enabled FROM rule
        WHERE enabled AND rule = ANY($1::text[]) ORDER BY rule, version
    """
    return [_version(r) for r in await conn.fetch(query, list(rules))]


def _version(row: Any) -> RuleVersion:
    return RuleVersion(
        rule=row["rule"],
        version=row["version"],
        params=dict(row["params"]),
        severity=cast(Severity, row["severity"]),
        enabled=row["enabled"],
    )


# --- alerts --------------------------------------------------------------------------------


#: Hits arrive as parallel arrays, so that one statement stores any number of them (a
#: multi-row VALUES costs SQLAlchemy a compilation per row). The index predicate is a literal:
#: with a bound parameter PostgreSQL cannot match it once it plans the statement generically.
_INSERT_ALERTS = """
INSERT INTO alert (alert_id, loan_id, rule, rule_version, severity, status, evidence, raised_on)
SELECT gen_random_uuid()::text, h.loan_id, :rule, :version, :severity, 'open',
       CAST(h.evidence AS json), h.raised_on
FROM unnest(CAST(:loan_ids AS text[]), CAST(:evidence AS text[]), CAST(:raised_on AS date[]))
     AS h(loan_id, evidence, raised_on)
ON CONFLICT (rule, loan_id) WHERE status <> 'resolved' DO NOTHING
RETURNING *
"""


async def insert_alerts(
    session: AsyncSession, version: RuleVersion, hits: Sequence[Hit]
) -> list[dict[str, Any]]:
    """Store hits as open alerts; a loan that already has an open alert of the rule is skipped.

    Returns the alerts inserted, as rows.
    """
    params = {
        "rule": version.rule,
        "version": version.version,
        "severity": version.severity,
        "loan_ids": [h.loan_id for h in hits],
        "evidence": [json.dumps(h.evidence) for h in hits],
        "raised_on": [h.raised_on for h in hits],
    }
    rows = await session.execute(sa.text(_INSERT_ALERTS), params)
    return [dict(r) for r in rows.mappings()]


async def get_alert(session: AsyncSession, alert_id: str) -> dict[str, Any] | None:
    row = await session.execute(sa.select(ALERT).where(ALERT.c.alert_id == alert_id))
    found = row.mappings().one_or_none()
    return None if found is None else dict(found)


async def move_alert(
    session: AsyncSession, alert_id: str, *, allowed_from: Sequence[str], values: dict[str, Any]
) -> dict[str, Any] | None:
    """Update an alert whose status is one of ``allowed_from``; None when there is none."""
    statement = (
        sa.update(ALERT)
        .where(ALERT.c.alert_id == alert_id, ALERT.c.status.in_(allowed_from))
        .values(**values)
        .returning(*ALERT.c)
    )
    row = (await session.execute(statement)).mappings().one_or_none()
    return None if row is None else dict(row)


async def list_alerts(
    session: AsyncSession,
    *,
    filters: dict[str, str],
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Alerts newest first (keyset on ``raised_at``, ``alert_id``)."""
    query = (
        sa.select(ALERT).order_by(ALERT.c.raised_at.desc(), ALERT.c.alert_id.desc()).limit(limit)
    )
    for column, value in filters.items():
        query = query.where(ALERT.c[column] == value)
    if after is not None:
        query = query.where(sa.tuple_(ALERT.c.raised_at, ALERT.c.alert_id) < sa.tuple_(*after))
    return [dict(r) for r in (await session.execute(query)).mappings()]


# --- facts for the rules -------------------------------------------------------------------

#: Each instalment with a date to check in ``first .. last``, as it stood at the end of that
#: date (with the DPD that end of day gave it, counted against the morning after): what is
#: paid on it now, less what payments booked after that date paid, so that end of day
#: (nothing booked later yet) and a later back-test see the same amount. Loans come from
#: that date's delinquency snapshot (the loans open that day).
_INSTALMENT_FACTS = """
SELECT i.loan_id, i.seq, i.due_on, i.principal + i.interest + i.fees AS amount_due,
       i.paid_principal + i.paid_interest + i.paid_fees - COALESCE(later.amount, 0) AS paid,
       s.as_of AS evaluated_on, s.dpd
FROM instalment i
JOIN delinquency_snapshot s
  ON s.loan_id = i.loan_id AND s.as_of = i.due_on + CAST(:offset AS integer)
LEFT JOIN LATERAL (
    SELECT sum(a.principal + a.interest + a.fees) AS amount
    FROM allocation a JOIN payment p ON p.payment_id = a.payment_id
    WHERE a.loan_id = i.loan_id AND a.seq = i.seq
      AND p.status = 'applied' AND p.booked_on > s.as_of
) later ON true
WHERE i.due_on BETWEEN CAST(:first AS date) - CAST(:offset AS integer)
                   AND CAST(:last AS date) - CAST(:offset AS integer)
  AND s.as_of BETWEEN CAST(:first AS date) AND CAST(:last AS date)
  AND s.status IN ('active', 'delinquent')
  AND i.paid_principal + i.paid_interest + i.paid_fees - COALESCE(later.amount, 0)
      < i.principal + i.interest + i.fees
  AND {condition}
ORDER BY s.as_of, i.loan_id, i.seq
"""
_PARTLY_PAID = "i.paid_principal + i.paid_interest + i.paid_fees - COALESCE(later.amount, 0) > 0"
_FIRST_INSTALMENT = (
    "NOT EXISTS (SELECT 1 FROM instalment e WHERE e.loan_id = i.loan_id AND e.seq < i.seq)"
)


async def partly_paid_instalments(
    session: AsyncSession, *, first: date, last: date, grace_days: int
) -> list[InstalmentFacts]:
    """Instalments paid in part, checked ``grace_days`` after their due date in the range."""
    sql = _INSTALMENT_FACTS.format(condition=_PARTLY_PAID)
    return await _instalments(session, sql, first=first, last=last, offset=grace_days)


async def unpaid_first_instalments(
    session: AsyncSession, *, first: date, last: date, days_after_due: int
) -> list[InstalmentFacts]:
    """First instalments still not fully paid when they are ``days_after_due`` days past due,
    in range: at the close of the day before (``due_on + days_after_due − 1``), whose end of
    day counts that DPD against the morning after (``domain/buckets.py``)."""
    sql = _INSTALMENT_FACTS.format(condition=_FIRST_INSTALMENT)
    offset = days_after_due - 1
    return await _instalments(session, sql, first=first, last=last, offset=offset)


async def _instalments(session: AsyncSession, sql: str, **params: Any) -> list[InstalmentFacts]:
    rows = await session.execute(sa.text(sql), params)
    return [InstalmentFacts(**r) for r in rows.mappings()]


#: For each applied payment in scope, the loan's last ``:n`` applied payments up to it (by
#: ``paid_at``), kept only when each of them is smaller than the one before, with the amount
#: of the instalment the payment went to (else the next one due, else the last one).
#: ``{scope}`` filters both the loans (alias ``q`` on ``payment``) and the windows (``q``).
_PAYMENT_WINDOWS = """
WITH scope_loans AS MATERIALIZED (
    -- Materialised, so that the planner reads the loans' payments by loan_id (its index)
    -- rather than the scope's payments for each one, whatever its estimates.
    SELECT DISTINCT q.loan_id FROM payment q WHERE q.status = 'applied' AND {scope}
), steps AS (
    SELECT p.loan_id, p.payment_id, p.amount, p.paid_at, p.booked_on,
           CASE WHEN p.amount < lag(p.amount) OVER o THEN 1 ELSE 0 END AS shrank
    FROM scope_loans l JOIN payment p ON p.loan_id = l.loan_id
    WHERE p.status = 'applied'
    WINDOW o AS (PARTITION BY p.loan_id ORDER BY p.paid_at, p.payment_id)
), windows AS (
    SELECT s.*, array_agg(s.payment_id) OVER w AS payment_ids,
           array_agg(s.amount) OVER w AS amounts, sum(s.shrank) OVER r AS shrinks
    FROM steps s
    WINDOW w AS (PARTITION BY s.loan_id ORDER BY s.paid_at, s.payment_id
                 ROWS BETWEEN $1::integer - 1 PRECEDING AND CURRENT ROW),
           r AS (PARTITION BY s.loan_id ORDER BY s.paid_at, s.payment_id
                 ROWS BETWEEN $1::integer - 2 PRECEDING AND CURRENT ROW)
)
SELECT q.loan_id, q.booked_on, q.payment_ids, q.amounts, COALESCE(
    (SELECT i.principal + i.interest + i.fees FROM allocation a
     JOIN instalment i ON i.loan_id = a.loan_id AND i.seq = a.seq
     WHERE a.payment_id = q.payment_id ORDER BY a.seq LIMIT 1),
    (SELECT i.principal + i.interest + i.fees FROM instalment i
     WHERE i.loan_id = q.loan_id AND i.due_on >= q.booked_on ORDER BY i.due_on, i.seq LIMIT 1),
    (SELECT i.principal + i.interest + i.fees FROM instalment i
     WHERE i.loan_id = q.loan_id ORDER BY i.seq DESC LIMIT 1)
) AS amount_due
FROM windows q
WHERE {scope} AND q.shrinks = $1::integer - 1
ORDER BY q.booked_on, q.paid_at, q.payment_id
"""


async def shrinking_payment_windows(
    session: AsyncSession,
    *,
    n: int,
    payment_id: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[PaymentWindow]:
    """Windows of ``n`` shrinking payments ending at one payment, or at those booked in range."""
    conn = await driver_connection(session)
    if payment_id is not None:
        query = _PAYMENT_WINDOWS.format(scope="q.payment_id = $2")
        rows = await conn.fetch(query, n, payment_id)
    else:
        query = _PAYMENT_WINDOWS.format(scope="q.booked_on BETWEEN $2 AND $3")
        rows = await conn.fetch(query, n, first, last)
    return [
        PaymentWindow(
            loan_id=r["loan_id"],
            booked_on=r["booked_on"],
            payment_ids=tuple(r["payment_ids"]),
            amounts=tuple(r["amounts"]),
            amount_due=r["amount_due"],
        )
        for r in rows
    ]


# --- borrowers and loans -------------------------------------------------------------------

BORROWER = Base.metadata.tables[BorrowerRow.__tablename__]
LOAN = Base.metadata.tables[LoanRow.__tablename__]
OPEN = ("active", "delinquent")


async def update_contact(
    session: AsyncSession, borrower_id: str, values: dict[str, Any], *, updated_at: datetime
) -> ContactState | None:
    """Apply contact changes to a borrower; its contact state after them, None if unknown."""
    state = (BORROWER.c.phone_valid, BORROWER.c.email_valid, BORROWER.c.email)
    statement: sa.Executable = (
        sa.update(BORROWER)
        .where(BORROWER.c.borrower_id == borrower_id)
        .values(**values)
        .returning(*state)
        if values
        else sa.select(*state).where(BORROWER.c.borrower_id == borrower_id)
    )
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        return None
    return ContactState(
        phone_valid=row.phone_valid,
        email_valid=row.email_valid,
        has_email=row.email is not None,
        updated_at=updated_at,
    )


async def open_loans_of(session: AsyncSession, borrower_id: str) -> list[str]:
    query = (
        sa.select(LOAN.c.loan_id)
        .where(LOAN.c.borrower_id == borrower_id, LOAN.c.status.in_(OPEN))
        .order_by(LOAN.c.loan_id)
    )
    return list((await session.execute(query)).scalars())


async def loan_exists(session: AsyncSession, loan_id: str) -> bool:
    query = sa.select(sa.exists().where(LOAN.c.loan_id == loan_id))
    return bool((await session.execute(query)).scalar())
