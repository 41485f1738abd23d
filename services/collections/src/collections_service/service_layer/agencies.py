"""Outside agencies: the whitelist (admin data), placements of a case with one of them once the
borrower has been told, the agency's actions on the case's timeline, and recall."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import agencies_sql as sql
from collections_service.adapters import business_day_sql, cases_sql, notices_sql
from collections_service.adapters.agencies_sql import Agency, Placement
from collections_service.adapters.cases_sql import CaseRecord, TimelineEntry
from collections_service.domain.agencies import (
    AgencyAction,
    PlacementEvent,
    PlacementStatus,
    next_status,
    notice_pending,
)
from collections_service.service_layer import contacts, effects, notices
from collections_service.service_layer.clock import Context
from collections_service.service_layer.contacts import Recorded
from shared.compliance.vocabulary import AttemptStatus, Channel, Purpose
from shared.events import ComplianceBreach
from shared.problems import Conflict, NotFound

__all__ = ["Agency", "Placement", "Recorded"]


async def put_agency(
    session: AsyncSession, agency_id: str, name: str, contact_line: str, active: bool,
    actor: str | None, ctx: Context,
) -> Agency:  # fmt: skip
    """Add an agency to the whitelist or change it (deactivating takes no new placements)."""
    await sql.upsert_agency(session, {
        "agency_id": agency_id, "name": name, "contact_line": contact_line, "active": active,
        "updated_by": actor, "updated_at": ctx.now(),
    })  # fmt: skip
    found = await sql.agency(session, agency_id)
    assert found is not None
    return found


async def list_agencies(session: AsyncSession) -> list[Agency]:
    return await sql.agencies(session)


async def get_agency(session: AsyncSession, agency_id: str) -> Agency:
    found = await sql.agency(session, agency_id)
    if found is None:
        raise NotFound("agency", agency_id)
    return found


@dataclass(frozen=True, slots=True)
class PlacementRequest:
    agency_id: str
    channel: str
    template_id: str


async def _open_case(session: AsyncSession, case_id: uuid.UUID) -> CaseRecord:
    case = await cases_sql.get_case(session, case_id)
    if case is None:
        raise NotFound("case", str(case_id))
    if case.status != "open":
        raise Conflict(f"case {case_id} is closed: it cannot be placed with an agency")
    return case


async def request_placement(
    session: AsyncSession, case_id: uuid.UUID, asked: PlacementRequest, actor: str | None,
    ctx: Context,
) -> Placement | Recorded:  # fmt: skip
    """Start a placement: the borrower's notice naming the agency is decided and requested.
    A refused notice places nothing and is answered with its (recorded) decision."""
    case = await _open_case(session, case_id)
    agency = await sql.agency(session, asked.agency_id)
    if agency is None or not agency.active:
        raise notices.invalid("agency_id", f"{asked.agency_id!r} is not an active agency")
    if any(p.status != PlacementStatus.RECALLED for p in await sql.placements_of(session, case_id)):
        raise Conflict(f"case {case_id} already has a live placement: recall it first")
    placement_id = uuid.uuid4()
    notice = notices.Notice(
        Purpose.AGENCY_NOTICE.value,
        asked.channel,
        asked.template_id,
        f"agency|{placement_id}",
        {"agency_name": agency.name, "agency_contact_line": agency.contact_line},
    )
    recorded, request_id = await notices.request_notice(session, case, notice, ctx)
    if notices.refused(recorded):
        return recorded
    on = await business_day_sql.today_of_case(session, case_id)
    fresh = await sql.insert_placement(session, {
        "placement_id": placement_id, "case_id": case_id, "agency_id": agency.agency_id,
        "status": PlacementStatus.NOTICE_REQUESTED.value, "notice_request_id": request_id,
        "requested_on": on, "requested_by": actor, "created_at": ctx.now(),
    })  # fmt: skip
    if not fresh:  # placed by someone else meanwhile: this notice is not sent either
        raise Conflict(f"case {case_id} already has a live placement: recall it first")
    await _line(session, case_id, ctx, "agency_placement_requested",
                {"placement_id": str(placement_id), "agency_id": agency.agency_id})  # fmt: skip
    return await _placement(session, placement_id)


async def place(session: AsyncSession, placement_id: uuid.UUID, ctx: Context) -> Placement:
    """Hand the case to the agency: refused (409) while the borrower's notice is not sent."""
    found = await _placement(session, placement_id, lock=True)
    status = _move(found, PlacementEvent.PLACE)
    case = await _open_case(session, found.case_id)
    pack, _ = await contacts.active_pack(session, case.pack)
    sent = await notices_sql.attempt_status(session, found.notice_request_id)
    if notice_pending(pack.agency_notice_required, sent):
        raise Conflict(
            "the borrower's notice of the placement has not been sent yet"
            f" (it is {sent or 'deferred'})",
            rule="agency_notice", notice_status=sent,
        )  # fmt: skip
    on = await business_day_sql.today_of_case(session, case.case_id)
    await sql.update_placement(session, placement_id, status=status.value, placed_on=on)
    await _line(session, case.case_id, ctx, "placed_with_agency",
                {"placement_id": str(placement_id), "agency_id": found.agency_id})  # fmt: skip
    return await _placement(session, placement_id)


#: The agency's actions that reach the borrower, and the channel the guard judges them as.
AGENCY_CONTACTS = {
    AgencyAction.CALL: Channel.AGENT_CALL,
    AgencyAction.VISIT: Channel.FIELD_VISIT,
    AgencyAction.LETTER: Channel.LETTER,
}


@dataclass(frozen=True, slots=True)
class AgencyReport:
    kind: AgencyAction
    occurred_at: datetime
    note: str | None = None
    amount: Decimal | None = None


async def record_action(
    session: AsyncSession, placement_id: uuid.UUID, report: AgencyReport, ctx: Context
) -> Placement:
    """What the agency reports doing, onto the case's timeline (placed cases only); a contact
    is judged and counted (see the module's docstring)."""
    found = await _placement(session, placement_id)
    _move(found, PlacementEvent.ACT)
    action_id = uuid.uuid4()
    breach = await _judge(session, found, report, action_id, ctx)
    detail: dict[str, object] = {
        "placement_id": str(placement_id), "agency_id": found.agency_id,
        "action_id": str(action_id), "kind": report.kind.value,
        "occurred_at": report.occurred_at.isoformat(), "note": report.note,
        "amount": None if report.amount is None else str(report.amount), "breach": breach,
    }  # fmt: skip
    await _line(session, found.case_id, ctx, "agency_action", detail)
    return found


async def _judge(
    session: AsyncSession, found: Placement, report: AgencyReport, action_id: uuid.UUID,
    ctx: Context,
) -> str | None:  # fmt: skip
    """The rule the agency's contact broke (None: allowed, or not a contact), once counted."""
    channel = AGENCY_CONTACTS.get(report.kind)
    if channel is None:
        return None
    case = await cases_sql.get_case(session, found.case_id)
    assert case is not None  # a placement's case exists
    ref = await cases_sql.loan_ref(session, case.loan_id)
    assert ref is not None  # a case's loan is known
    planned = contacts.Planned(
        loan_id=case.loan_id, borrower_id=case.borrower_id, channel=channel.value,
        time_zone=str(ref["time_zone"]), pack=case.pack,
        business_date=await cases_sql.business_date_of_case(session, case.case_id),
        case_id=case.case_id, to=None if channel is Channel.LETTER else str(ref["phone"]),
        request_key=f"agency|{action_id}",
    )  # fmt: skip
    would = await contacts.would_allow(session, planned, report.occurred_at)
    await contacts.count_contact(session, planned, report.occurred_at, AttemptStatus.CONNECTED)
    if would.allowed:
        return None
    breach = would.rule.value if would.rule else "refused"
    event = ComplianceBreach(
        case_id=case.case_id, loan_id=case.loan_id, outcome_id=action_id, rule=breach,
        channel=channel.value, contacted_at=report.occurred_at,
    )  # fmt: skip
    await effects.announce(session, event, subject=case.loan_id, at=ctx.now())
    return breach


async def recall(
    session: AsyncSession, placement_id: uuid.UUID, reason: str, ctx: Context
) -> Placement:
    """Take the case back from the agency (or stop a placement not yet made)."""
    found = await _placement(session, placement_id, lock=True)
    status = _move(found, PlacementEvent.RECALL)
    on = await business_day_sql.today_of_case(session, found.case_id)
    await sql.update_placement(
        session, placement_id, status=status.value, recalled_on=on, recall_reason=reason
    )
    await _line(session, found.case_id, ctx, "agency_recalled",
                {"placement_id": str(placement_id), "agency_id": found.agency_id,
                 "reason": reason})  # fmt: skip
    return await _placement(session, placement_id)


async def placements_of(session: AsyncSession, case_id: uuid.UUID) -> list[Placement]:
    if await cases_sql.get_case(session, case_id) is None:
        raise NotFound("case", str(case_id))
    return await sql.placements_of(session, case_id)


def _move(found: Placement, event: PlacementEvent) -> PlacementStatus:
    status = next_status(PlacementStatus(found.status), event)
    if status is None:
        raise Conflict(f"a placement that is {found.status} cannot {event.value}")
    return status


async def _placement(
    session: AsyncSession, placement_id: uuid.UUID, *, lock: bool = False
) -> Placement:
    found = await sql.placement(session, placement_id, lock=lock)
    if found is None:
        raise NotFound("placement", str(placement_id))
    return found


async def _line(
    session: AsyncSession, case_id: uuid.UUID, ctx: Context, kind: str,
    detail: dict[str, object],
) -> None:  # fmt: skip
    on = await business_day_sql.today_of_case(session, case_id)
    await effects.timeline(session, case_id, [TimelineEntry(ctx.now(), on, kind, detail)])
