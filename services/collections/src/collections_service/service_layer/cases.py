"""Use cases of cases: monitoring's and scoring's facts open, follow and close them.

Each fact about a loan is applied under a lock of the loan's state, in the consumer's
transaction (with the inbox row and the events it causes), so facts about one loan apply one
at a time. A fact dated before what the state already reflects changes nothing: events may be
redelivered (the inbox stops those) or arrive out of order (this stops those).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    waves,
)
from collections_service.service_layer import contacts, effects, pre_due, quadrants, treatment, work
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


async def apply_delinquencies(
    session: AsyncSession, facts: Sequence[DelinquencyChanged], ctx: Context
) -> None:
    """A run of delinquency facts (a consumer's batch), set-based: a few statements per wave
    instead of a dozen per fact. A wave holds each loan and each borrower at most once, so its
    statements never touch a row twice and the guard's caps see every earlier decision about
    the same borrower; the waves keep the facts' order."""
    for wave in waves(facts):
        await _apply_wave(session, wave, ctx)


async def _apply_wave(
    session: AsyncSession, facts: Sequence[DelinquencyChanged], ctx: Context
) -> None:
    applied = await sql.apply_states(session, [
        sql.StateFact(f.loan_id, f.bucket, f.dpd, f.overdue_amount, f.business_date)
        for f in facts
    ])  # fmt: skip
    live = [f for f in facts if f.loan_id in applied]  # the others: older than the state
    cases = await sql.open_cases(session, [f.loan_id for f in live])
    now = ctx.now()
    closing: list[tuple[CaseRecord, str, date, bool]] = []
    opening: list[tuple[DelinquencyChanged, str | None]] = []
    following: list[tuple[CaseRecord, DelinquencyChanged]] = []
    for fact in live:
        case = cases.get(fact.loan_id)
        if case is not None and missed_cure(Phase.OPEN, fact.bucket_before, fact.bucket):
            closing.append((case, "cured", fact.business_date, True))
            case = None
        step = transition(Phase.OPEN if case else Phase.NONE, bucket_move(fact.bucket))
        if step.opens:
            opening.append((fact, applied[fact.loan_id].tier))
        elif case is not None and step.close_reason is not None:
            closing.append((case, step.close_reason.value, fact.business_date, False))
        elif case is not None:
            following.append((case, fact))
    await _close_many(session, closing, now)
    await _follow_many(session, following, ctx)
    await _open_many(session, opening, ctx)


async def _follow_many(
    session: AsyncSession, following: Sequence[tuple[CaseRecord, DelinquencyChanged]], ctx: Context
) -> None:
    await sql.update_cases(session, [
        {"case_id": c.case_id, "dpd": f.dpd, "bucket": f.bucket, "overdue_amount": f.overdue_amount}
        for c, f in following
    ])  # fmt: skip
    moved = [(c, f) for c, f in following if f.bucket != c.bucket]
    if not moved:
        return
    refs = await sql.loan_refs(session, [c.loan_id for c, _ in moved])
    now = ctx.now()
    async with contacts.deciding_together(
        session, [(c.borrower_id, c.loan_id) for c, _ in moved], now
    ):
        for case, fact in moved:
            detail = {"from": case.bucket, "to": fact.bucket, "dpd": fact.dpd}
            line = _line(now, fact.business_date, "bucket_changed", detail)
            await effects.timeline(session, case.case_id, [line])
            ref = refs.get(case.loan_id)
            if ref is not None:
                case = replace(
                    case, dpd=fact.dpd, bucket=fact.bucket, overdue_amount=fact.overdue_amount
                )
                await treatment.follow_segment(session, case, ref, fact.business_date, ctx)


async def _open_many(
    session: AsyncSession, opening: Sequence[tuple[DelinquencyChanged, str | None]], ctx: Context
) -> None:
    if not opening:
        return
    refs = await sql.loan_refs(session, [f.loan_id for f, _ in opening])
    for fact, _ in opening:
        if fact.loan_id not in refs:
            raise LoanNotYetKnown(fact.loan_id)
    now = ctx.now()
    # the quadrant first: segments may select on it
    found = await quadrants.compute_many(session, [
        quadrants.Whose(f.borrower_id, refs[f.loan_id]["principal"], tier) for f, tier in opening
    ], ctx.thresholds)  # fmt: skip
    rows: list[dict[str, object]] = []
    entering: list[tuple[CaseRecord, treatment.Choice, DelinquencyChanged]] = []
    for (fact, tier), quadrant in zip(opening, found, strict=True):
        ref = refs[fact.loan_id]
        values = {
            "case_id": case_id_for(fact.loan_id, fact.business_date), "loan_id": fact.loan_id,
            "borrower_id": fact.borrower_id, "status": "open", "opened_on": fact.business_date,
            "closed_on": None, "close_reason": None, "dpd": fact.dpd, "bucket": fact.bucket,
            "overdue_amount": fact.overdue_amount, "tier": tier, "quadrant": quadrant.quadrant,
            "quadrant_signals": quadrant.inputs, "pack": ref["jurisdiction"], "assignee": None,
            "strategy_id": None, "strategy_version": None, "segment": None, "variant": None,
            "segment_entered_on": None,
        }  # fmt: skip
        case = CaseRecord(**values, product=ref["product"])
        choice = await treatment.choose(session, case, ref, fact.business_date, ctx)
        if choice.entered is not None:  # inserted with its segment: one statement, not two
            values.update(choice.entered)
            case = replace(case, **choice.entered)  # type: ignore[arg-type]
        rows.append(values)
        entering.append((case, choice, fact))
    await sql.insert_cases(session, rows)
    for case, _, fact in entering:
        detail = {
            "bucket": fact.bucket,
            "dpd": fact.dpd,
            "overdue_amount": str(fact.overdue_amount),
        }
        await effects.timeline(
            session, case.case_id, [_line(now, fact.business_date, "opened", detail)]
        )
        opened = CaseOpened(
            case_id=case.case_id, loan_id=fact.loan_id, borrower_id=fact.borrower_id,
            bucket=fact.bucket, opened_on=fact.business_date,
        )  # fmt: skip
        await effects.announce(session, opened, subject=fact.loan_id, at=now)
    async with contacts.deciding_together(
        session, [(c.borrower_id, c.loan_id) for c, _, _ in entering], now
    ):
        for case, choice, fact in entering:
            ref = refs[fact.loan_id]
            await treatment.enter(session, case, choice, ref, fact.business_date, ctx)


async def _close_many(
    session: AsyncSession, closing: Sequence[tuple[CaseRecord, str, date, bool]], now: datetime
) -> None:
    """Close the cases (each: case, reason, date, whether a relapse closes it because its cure
    arrived out of order — the closing date is then the relapse's, the real one unknown)."""
    await sql.update_cases(session, [
        {"case_id": c.case_id, "status": "closed", "closed_on": on, "close_reason": reason}
        for c, reason, on, _ in closing
    ])  # fmt: skip
    for case, reason, on, cure_not_seen in closing:
        await _announce_closed(session, case, reason, on, now, cure_not_seen=cure_not_seen)


async def _close(
    session: AsyncSession, case: CaseRecord, reason: str, on: date, now: datetime
) -> None:
    await sql.update_case(session, case.case_id, status="closed", closed_on=on, close_reason=reason)
    await _announce_closed(session, case, reason, on, now)


async def _announce_closed(
    session: AsyncSession,
    case: CaseRecord,
    reason: str,
    on: date,
    now: datetime,
    *,
    cure_not_seen: bool = False,
) -> None:
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
