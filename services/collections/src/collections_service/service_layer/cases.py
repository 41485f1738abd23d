"""Use cases of cases: monitoring's and scoring's facts open, follow and close them.

Each fact about a loan is applied under a lock of the loan's state, in the consumer's
transaction (with the inbox row and the events it causes), so facts about one loan apply one
at a time. A fact dated before what the state already reflects changes nothing: events may be
redelivered (the inbox stops those) or arrive out of order (this stops those).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import business_day_sql, recoveries_sql
from collections_service.adapters import cases_sql as sql
from collections_service.adapters.cases_sql import CaseRecord, TimelineEntry
from collections_service.domain.cases import Happened as H
from collections_service.domain.cases import (
    Phase,
    bucket_move,
    case_id_for,
    missed_cure,
    transition,
)
from collections_service.service_layer import effects, pre_due, quadrants, treatment, work
from collections_service.service_layer.clock import Context
from shared.events import (
    CaseClosed,
    CaseOpened,
    DelinquencyChanged,
    LoanClosed,
    LoanStatus,
    LoanUpdated,
    PaymentApplied,
    ScoreUpdated,
)
from shared.problems import Problem

CLOSING = {
    LoanStatus.SETTLED: H.SETTLED,
    LoanStatus.WRITTEN_OFF: H.WRITTEN_OFF,
    LoanStatus.CLOSED: H.PAID_OFF,
}


class LoanNotYetKnown(Problem):
    """A delinquency of a loan whose registration has not arrived: retried by redelivery."""

    def __init__(self, loan_id: str) -> None:
        super().__init__(409, "Loan not yet known", f"no reference for loan {loan_id} yet")


async def apply_delinquency(session: AsyncSession, fact: DelinquencyChanged, ctx: Context) -> None:
    applied = await sql.apply_state(
        session, fact.loan_id, bucket=fact.bucket, dpd=fact.dpd, overdue=fact.overdue_amount,
        on=fact.business_date,
    )  # fmt: skip
    if applied is None:
        return  # an older fact than the state reflects: out of order, changes nothing
    case = await sql.open_case(session, fact.loan_id)
    now = ctx.now()
    if case is not None and missed_cure(Phase.OPEN, fact.bucket_before, fact.bucket):
        await _close(session, case, "cured", fact.business_date, now, cure_not_seen=True)
        case = None
    step = transition(Phase.OPEN if case else Phase.NONE, bucket_move(fact.bucket))
    if step.opens:
        await _open(session, fact, applied.tier, ctx)
    elif case is not None and step.close_reason is not None:
        await _close(session, case, step.close_reason.value, fact.business_date, now)
    elif case is not None:
        await _follow(session, case, fact, ctx)


async def _follow(
    session: AsyncSession, case: CaseRecord, fact: DelinquencyChanged, ctx: Context
) -> None:
    moved = replace(case, dpd=fact.dpd, bucket=fact.bucket, overdue_amount=fact.overdue_amount)
    await sql.update_case(session, case.case_id, dpd=fact.dpd, bucket=fact.bucket,
                          overdue_amount=fact.overdue_amount)  # fmt: skip
    if fact.bucket != case.bucket:
        detail = {"from": case.bucket, "to": fact.bucket, "dpd": fact.dpd}
        line = _line(ctx.now(), fact.business_date, "bucket_changed", detail)
        await effects.timeline(session, case.case_id, [line])
        ref = await sql.loan_ref(session, case.loan_id)
        if ref is not None:
            await treatment.follow_segment(session, moved, ref, fact.business_date, ctx)


async def _open(
    session: AsyncSession, fact: DelinquencyChanged, tier: str | None, ctx: Context
) -> None:
    now = ctx.now()
    ref = await sql.loan_ref(session, fact.loan_id)
    if ref is None:
        raise LoanNotYetKnown(fact.loan_id)
    case_id = case_id_for(fact.loan_id, fact.business_date)
    # the quadrant first: segments may select on it
    found = await quadrants.compute(
        session, fact.borrower_id, ref["principal"], tier, ctx.thresholds
    )
    values = {
        "case_id": case_id, "loan_id": fact.loan_id, "borrower_id": fact.borrower_id,
        "status": "open", "opened_on": fact.business_date, "closed_on": None,
        "close_reason": None, "dpd": fact.dpd, "bucket": fact.bucket,
        "overdue_amount": fact.overdue_amount, "tier": tier, "quadrant": found.quadrant,
        "quadrant_signals": found.inputs, "pack": ref["jurisdiction"], "assignee": None,
        "strategy_id": None, "strategy_version": None, "segment": None, "variant": None,
        "segment_entered_on": None,
    }  # fmt: skip
    case = CaseRecord(**values, product=ref["product"])
    choice = await treatment.choose(session, case, ref, fact.business_date, ctx)
    if choice.entered is not None:  # inserted with its segment: one statement, not two
        values.update(choice.entered)
        case = replace(case, **choice.entered)  # type: ignore[arg-type]
    await sql.insert_case(session, values)
    detail = {"bucket": fact.bucket, "dpd": fact.dpd, "overdue_amount": str(fact.overdue_amount)}
    await effects.timeline(session, case_id, [_line(now, fact.business_date, "opened", detail)])
    opened = CaseOpened(case_id=case_id, loan_id=fact.loan_id, borrower_id=fact.borrower_id,
                        bucket=fact.bucket, opened_on=fact.business_date)  # fmt: skip
    await effects.announce(session, opened, subject=fact.loan_id, at=now)
    await treatment.enter(session, case, choice, ref, fact.business_date, ctx)


async def _close(
    session: AsyncSession,
    case: CaseRecord,
    reason: str,
    on: date,
    now: datetime,
    *,
    cure_not_seen: bool = False,
) -> None:
    """Close the case; ``cure_not_seen``: closed by a relapse whose cure arrived out of order
    (the closing date is then the relapse's, the real cure date being unknown)."""
    await sql.update_case(session, case.case_id, status="closed", closed_on=on, close_reason=reason)
    detail: dict[str, object] = {"reason": reason}
    if cure_not_seen:
        detail["cure_not_seen"] = True
    await effects.timeline(session, case.case_id, [_line(now, on, "closed", detail)])
    closed = CaseClosed(case_id=case.case_id, loan_id=case.loan_id, reason=reason, closed_on=on)  # type: ignore[arg-type]
    await effects.announce(session, closed, subject=case.loan_id, at=now)


async def transfer_to_legal(
    session: AsyncSession, case: CaseRecord, on: date, now: datetime
) -> None:
    """Close the case as transferred to legal (its legal file carries on)."""
    step = transition(Phase.OPEN, H.TRANSFERRED_TO_LEGAL)
    assert step.close_reason is not None
    await _close(session, case, step.close_reason.value, on, now)


async def apply_loan_closed(session: AsyncSession, fact: LoanClosed, ctx: Context) -> None:
    await sql.lock_state(session, fact.loan_id)
    case = await sql.open_case(session, fact.loan_id)
    happened = CLOSING.get(fact.status)
    if case is None or happened is None:
        return
    step = transition(Phase.OPEN, happened)
    if step.close_reason is not None:
        await _close(session, case, step.close_reason.value, fact.closed_on, ctx.now())


async def apply_loan_updated(session: AsyncSession, fact: LoanUpdated) -> None:
    """A payment or correction: DPD may fall within a bucket (buckets move by delinquency)."""
    state = await sql.lock_state(session, fact.loan_id)
    if (
        state is not None
        and state.business_date is not None
        and fact.business_date < state.business_date
    ):
        return
    await sql.save_state(session, fact.loan_id, outstanding=fact.outstanding_total)
    case = await sql.open_case(session, fact.loan_id)
    if case is not None and fact.bucket == case.bucket:
        await sql.update_case(session, case.case_id, dpd=fact.dpd)


async def apply_payment(session: AsyncSession, fact: PaymentApplied, ctx: Context) -> None:
    """The loan's last payment (a time-barred debt counts its years from it), and the
    promises it keeps."""
    await sql.note_payment(session, fact.loan_id, fact.booked_on)
    await recoveries_sql.record(session, fact.payment_id, fact.loan_id, fact.amount, fact.booked_on)
    await work.apply_payment(session, fact.loan_id, fact.amount, fact.booked_on, ctx.now())


async def apply_score(session: AsyncSession, fact: ScoreUpdated, ctx: Context) -> None:
    """The latest tier: on the loan's state (for cases to come) and its open case."""
    state = await sql.lock_state(session, fact.loan_id)
    if state is not None and state.tier == fact.tier:
        return
    await sql.save_state(session, fact.loan_id, tier=fact.tier, scored_at=fact.scored_at)
    case = await sql.open_case(session, fact.loan_id)
    if case is not None:
        await sql.update_case(session, case.case_id, tier=fact.tier)
        await quadrants.refresh(session, case.case_id, ctx.thresholds)
        detail = {
            "from": case.tier,
            "to": fact.tier,
            "pd": str(fact.pd),
            "model_version": fact.model_version,
        }
        on = state.business_date if state and state.business_date else case.opened_on
        await effects.timeline(
            session, case.case_id, [_line(fact.scored_at, on, "tier_changed", detail)]
        )


async def apply_end_of_day(session: AsyncSession, business_date: date, ctx: Context) -> None:
    """A business day begins: open cases age a day, the steps due today run, and the
    pre-due reminders of today are decided."""
    await sql.advance_open_cases(session, business_date)
    await business_day_sql.advance(session, business_date)
    await work.judge_promises(session, business_date, ctx.now())  # a broken one stops holding
    await treatment.run_due_steps(session, business_date, ctx)
    await pre_due.run_pre_due(session, business_date, ctx)


def _line(at: datetime, on: date, kind: str, detail: Mapping[str, object]) -> TimelineEntry:
    return TimelineEntry(at=at, business_date=on, kind=kind, detail=detail)
