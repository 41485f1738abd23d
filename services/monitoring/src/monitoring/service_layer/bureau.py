"""Use cases of bureau data: record a report, and refresh the reports that are due."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters import bureau_sql, business_date
from monitoring.adapters.bureau_adapter import AdapterFactory as AdapterFactory  # routes' type
from monitoring.adapters.bureau_adapter import SimulatedBureau
from monitoring.adapters.bureau_sql import StoredReport
from monitoring.domain.bureau import RefreshPolicy, report_date
from monitoring.service_layer import SOURCE
from monitoring.service_layer.rule_evaluation import evaluate_bureau_report
from shared.db import Database
from shared.events import BureauRecorded, BureauReported, make_event
from shared.messaging.outbox import enqueue
from shared.problems import Conflict, NotFound, Problem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportView(StoredReport):
    """A stored report with the date it speaks for, in the borrower's time zone."""

    reported_on: date


@dataclass(frozen=True)
class Recorded:
    report: ReportView
    created: bool


async def record_report(session: AsyncSession, report: BureauReported) -> Recorded:
    """Store a report, announce it and evaluate the bureau rules on it.

    Idempotent on (borrower, reported_at): the same report again changes nothing; a different
    one with the same key is a :class:`Conflict`. An unknown borrower is a 422 problem.
    """
    time_zone = await bureau_sql.time_zone_of(session, report.borrower_id)
    if time_zone is None:
        raise Problem(
            422,
            "Unknown borrower",
            f"no loan of borrower {report.borrower_id!r} has been registered",
            errors=[{"field": "borrower_id", "message": "unknown borrower"}],
        )
    created = await bureau_sql.insert_report(session, report)
    stored = await bureau_sql.get_report(session, report.borrower_id, report.reported_at)
    assert stored is not None
    if not created and _differs(stored, report):
        raise Conflict(
            f"a different report on {report.borrower_id} at {report.reported_at} exists",
            borrower_id=report.borrower_id,
        )
    if created:
        recorded = BureauRecorded.model_validate(report.model_dump())
        await enqueue(session, [make_event(recorded, source=SOURCE, subject=report.borrower_id)])
        await evaluate_bureau_report(session, report.borrower_id, report.reported_at)
    return Recorded(_view(stored, time_zone), created)


def _differs(stored: StoredReport, report: BureauReported) -> bool:
    return any(getattr(stored, k) != v for k, v in report.model_dump().items())


def _view(report: StoredReport, time_zone: str) -> ReportView:
    return ReportView(**vars(report), reported_on=report_date(report.reported_at, time_zone))


async def report_history(
    session: AsyncSession, borrower_id: str, *, before: datetime | None, limit: int
) -> list[ReportView]:
    """A borrower's reports, newest first (404 for an unknown borrower)."""
    time_zone = await bureau_sql.time_zone_of(session, borrower_id)
    if time_zone is None:
        raise NotFound("borrower", borrower_id)
    rows = await bureau_sql.history(session, borrower_id, before=before, limit=limit)
    return [_view(r, time_zone) for r in rows]


def simulated_bureau(seed: int) -> AdapterFactory:
    """The bureau this deployment asks: the simulated one, answering from ``seed``."""
    return lambda as_of: SimulatedBureau(seed=seed, as_of=as_of)


@dataclass(frozen=True)
class RefreshOutcome:
    as_of: date | None
    requested: int
    stored: int


async def refresh_reports(
    db: Database,
    adapter_for: AdapterFactory,
    *,
    policy: RefreshPolicy,
    limit: int,
    tiers: Mapping[str, str] | None = None,
) -> RefreshOutcome:
    """Ask the bureau for the borrowers whose last report is too old, and record the answers.

    ``tiers`` gives borrowers' risk tiers where they are known (riskier ones are due sooner);
    without it every borrower gets the policy's default age. The bureau is called outside any
    transaction.
    """
    async with db.unit_of_work() as session:
        today = await business_date.current(session)
        if today is None:
            return RefreshOutcome(None, 0, 0)
        min_age = policy.shortest_max_age if tiers else policy.default_max_age_days
        candidates = await bureau_sql.borrowers_due(
            session, today=today, min_age_days=min_age, limit=limit
        )
    tier_of = tiers or {}
    due = [b for b, last in candidates if policy.is_due(last, today, tier_of.get(b))]
    reports = await adapter_for(today).fetch(due) if due else []
    stored = 0
    async with db.unit_of_work() as session:
        for report in reports:
            try:
                stored += (await record_report(session, report)).created
            except Conflict as exc:
                log.warning("bureau refresh: %s", exc)
    return RefreshOutcome(today, len(due), stored)


async def refresh_periodically(
    db: Database,
    adapter_for: AdapterFactory,
    *,
    interval_s: float,
    policy: RefreshPolicy,
    limit: int,
) -> None:
    """Refresh due reports every ``interval_s`` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            outcome = await refresh_reports(db, adapter_for, policy=policy, limit=limit)
        except Exception:  # the next round tries again; the error is in the log
            log.exception("bureau refresh failed")
            continue
        if outcome.requested:
            log.info(
                "bureau refresh on %s: %d requested, %d stored",
                outcome.as_of,
                outcome.requested,
                outcome.stored,
            )
