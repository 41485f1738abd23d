"""Legal escalation and the legal file.

A case goes to legal only once the final (legal) notice has been sent — notify confirmed it —
and the guard allows the escalation: its ``legal_notice_period`` rule counts the pack's waiting
days in business dates, ``time_barred`` refuses a time-barred debt. The transfer closes the case
(``legal``) and opens its legal file; a judgment for the lender flags the borrower as a
dishonest debtor (失信) and emits ``collections.debtor.flagged``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import business_day_sql, cases_sql, notices_sql
from collections_service.adapters import legal_sql as sql
from collections_service.adapters.cases_sql import CaseRecord, TimelineEntry
from collections_service.adapters.legal_sql import LegalFile
from collections_service.domain.legal import (
    JUDGEABLE,
    Judgment,
    LegalStatus,
    can_move,
    escalation_blocker,
    filing_missing,
)
from collections_service.service_layer import cases, contacts, effects, notices
from collections_service.service_layer.clock import Context
from shared.compliance.vocabulary import Purpose
from shared.events import DishonestDebtorFlagged
from shared.problems import Conflict, NotFound

__all__ = ["FileChange", "LegalFile"]


async def _case(session: AsyncSession, case_id: uuid.UUID) -> CaseRecord:
    case = await cases_sql.get_case(session, case_id)
    if case is None:
        raise NotFound("case", str(case_id))
    return case


async def request_final_notice(
    session: AsyncSession, case_id: uuid.UUID, channel: str, template_id: str, ctx: Context
) -> contacts.Recorded:
    """The written notice before legal escalation, decided and requested like every contact."""
    case = await _case(session, case_id)
    if case.status != "open":
        raise Conflict(f"case {case_id} is closed")
    key = f"legal-notice|{case_id}|{template_id}|{channel}"
    notice = notices.Notice(Purpose.LEGAL_NOTICE.value, channel, template_id, key, {})
    recorded, _ = await notices.request_notice(session, case, notice, ctx)
    return recorded


async def escalate(
    session: AsyncSession, case_id: uuid.UUID, actor: str | None, ctx: Context
) -> LegalFile:
    """Transfer the case to legal (409 with the rule and the date it may, when it may not)."""
    case = await _case(session, case_id)
    if case.status != "open":
        raise Conflict(f"case {case_id} is closed: it cannot go to legal")
    sent_on = await notices_sql.first_sent_on(session, case.loan_id, Purpose.LEGAL_NOTICE.value)
    blocker = escalation_blocker(sent_on, await notices_sql.dispute_open(session, case.loan_id))
    if blocker is not None:
        rule, reason = blocker
        raise Conflict(reason, rule=rule)
    assert sent_on is not None
    on = await business_day_sql.today_of_case(session, case_id)
    await _guard_allows(session, case, on, ctx)
    legal_file_id = uuid.uuid4()
    await sql.insert(session, {
        "legal_file_id": legal_file_id, "case_id": case_id, "loan_id": case.loan_id,
        "borrower_id": case.borrower_id, "status": LegalStatus.PREPARING.value,
        "notice_sent_on": sent_on, "escalated_on": on, "documents": [],
        "escalated_by": actor, "updated_at": ctx.now(),
    })  # fmt: skip
    detail = {"legal_file_id": str(legal_file_id), "notice_sent_on": sent_on.isoformat()}
    await effects.timeline(
        session, case_id, [TimelineEntry(ctx.now(), on, "transferred_to_legal", detail)]
    )
    await cases.transfer_to_legal(session, case, on, ctx.now())
    return await _file(session, legal_file_id)


async def _guard_allows(session: AsyncSession, case: CaseRecord, on: date, ctx: Context) -> None:
    """Ask the guard about the transfer itself (a legal escalation, not a message: nothing is
    reserved in the ledger); a deferral or refusal is a 409 naming the rule."""
    ref = await cases_sql.loan_ref(session, case.loan_id)
    assert ref is not None
    planned = contacts.Planned(
        loan_id=case.loan_id, borrower_id=case.borrower_id, channel="letter",
        time_zone=str(ref["time_zone"]), pack=case.pack, business_date=on, case_id=case.case_id,
        purpose=Purpose.LEGAL_NOTICE.value, request_key=f"escalation|{case.case_id}",
        legal_escalation=True,
    )  # fmt: skip
    decision = await contacts.would_allow(session, planned, ctx.now())
    if decision.allowed:
        return
    rule = decision.rule.value if decision.rule else "refused"
    until = decision.until.date().isoformat() if decision.until else None
    raise Conflict(f"{rule}: {decision.reason}", rule=rule, allowed_from=until)


async def file_of_case(session: AsyncSession, case_id: uuid.UUID) -> LegalFile:
    found = await sql.of_case(session, case_id)
    if found is None:
        raise NotFound("legal file of case", str(case_id))
    return found


@dataclass(frozen=True, slots=True)
class LegalStanding:
    """What a case shows of the road to court: its own file, if any, and whether a court named
    the borrower a dishonest debtor (失信被执行人) on any of their files."""

    file: LegalFile | None
    dishonest_debtor: bool


async def standing_of(session: AsyncSession, case: CaseRecord) -> LegalStanding:
    file = await sql.of_case(session, case.case_id)
    flagged = bool(file and file.dishonest_debtor)
    return LegalStanding(file, flagged or await sql.borrower_flagged(session, case.borrower_id))


async def _file(
    session: AsyncSession, legal_file_id: uuid.UUID, *, lock: bool = False
) -> LegalFile:
    found = await sql.get(session, legal_file_id, lock=lock)
    if found is None:
        raise NotFound("legal file", str(legal_file_id))
    return found


@dataclass(frozen=True, slots=True)
class FileChange:
    status: LegalStatus | None = None
    court: str | None = None
    court_case_number: str | None = None


async def update_file(
    session: AsyncSession, legal_file_id: uuid.UUID, change: FileChange, ctx: Context
) -> LegalFile:
    """Court, court case number and status (moves the transition table allows)."""
    found = await _file(session, legal_file_id, lock=True)
    current = LegalStatus(found.status)
    status = change.status or current
    if status is not current and not can_move(current, status):
        raise notices.invalid("status", f"a file that is {current} cannot become {status}")
    court = change.court or found.court
    number = change.court_case_number or found.court_case_number
    missing = filing_missing(status, court, number)
    if missing:
        raise notices.invalid(missing[0], f"required once the file is {status}")
    await sql.update(session, legal_file_id, status=status.value, court=court,
                     court_case_number=number, updated_at=ctx.now())  # fmt: skip
    if status is not current:
        await _line(session, found, ctx, "legal_status", {"from": current, "to": status})
    return await _file(session, legal_file_id)


async def add_document(
    session: AsyncSession, legal_file_id: uuid.UUID, document: dict[str, object], ctx: Context
) -> LegalFile:
    found = await _file(session, legal_file_id)
    on = await business_day_sql.today_of_case(session, found.case_id)
    stored = {"document_id": str(uuid.uuid4()), **document, "added_on": on.isoformat()}
    await sql.add_document(session, legal_file_id, stored, ctx.now())
    return await _file(session, legal_file_id)


async def record_judgment(
    session: AsyncSession, legal_file_id: uuid.UUID, judgment: Judgment, ctx: Context
) -> LegalFile:
    """The court's judgment, once; one for the lender flags the borrower (失信) and says so."""
    found = await _file(session, legal_file_id, lock=True)
    if LegalStatus(found.status) not in JUDGEABLE:
        raise Conflict(f"a file that is {found.status} cannot take a judgment (filed or hearing)")
    on = await business_day_sql.today_of_case(session, found.case_id)
    if judgment.on > on:
        raise notices.invalid("judgment_on", f"after the business date {on.isoformat()}")
    flagged = judgment.flags_dishonest_debtor
    await sql.update(session, legal_file_id, status=LegalStatus.JUDGMENT.value,
                     judgment_on=judgment.on, judgment_amount=judgment.amount,
                     judgment_outcome=judgment.outcome.value, dishonest_debtor=flagged,
                     updated_at=ctx.now())  # fmt: skip
    detail = {"legal_file_id": str(legal_file_id), "judgment_on": judgment.on.isoformat(),
              "amount": str(judgment.amount), "outcome": judgment.outcome.value,
              "dishonest_debtor": flagged}  # fmt: skip
    await _line(session, found, ctx, "judgment_recorded", detail)
    if flagged:
        await effects.announce(session, _flagged(found, judgment), subject=found.loan_id,
                               at=ctx.now())  # fmt: skip
    return await _file(session, legal_file_id)


def _flagged(found: LegalFile, judgment: Judgment) -> DishonestDebtorFlagged:
    assert found.court
    assert found.court_case_number
    return DishonestDebtorFlagged(
        case_id=found.case_id, legal_file_id=found.legal_file_id, loan_id=found.loan_id,
        borrower_id=found.borrower_id, court=found.court,
        court_case_number=found.court_case_number, judgment_on=judgment.on,
        judgment_amount=judgment.amount,
    )  # fmt: skip


async def _line(
    session: AsyncSession, found: LegalFile, ctx: Context, kind: str, detail: Mapping[str, object]
) -> None:
    on = await business_day_sql.today_of_case(session, found.case_id)
    await effects.timeline(session, found.case_id, [TimelineEntry(ctx.now(), on, kind, detail)])
