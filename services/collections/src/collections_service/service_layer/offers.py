"""Use cases of offers: make, approve, accept, refuse, and the ledger's answer (BRIEF decision 11).

Each applies one transition of :data:`collections_service.domain.offers.TRANSITIONS` under a
lock of the offer and writes its timeline line and events in the same transaction. Accepting
publishes ``collections.offer.accepted``; monitoring books it once and answers
``monitoring.adjustment.booked`` (→ ``booked``) or ``monitoring.adjustment.rejected``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import cases_sql, offers_sql
from collections_service.adapters.cases_sql import CaseRecord, TimelineEntry
from collections_service.domain.offers import (
    RETURNS_POINTS,
    Event,
    Proposal,
    Status,
    amount_of,
    check,
    may_grant,
    next_status,
)
from collections_service.service_layer import effects, points
from collections_service.service_layer.clock import Context
from shared.events import AdjustmentBooked, AdjustmentRejected, OfferAccepted, OfferKind
from shared.problems import NotFound, Problem

SYSTEM = "system"


async def make_offer(
    session: AsyncSession, case_id: uuid.UUID, proposal: Proposal, actor: str | None,
    roles: Sequence[str], ctx: Context,
) -> dict[str, Any]:  # fmt: skip
    """Offer ``proposal`` on an open case: approved at once within the maker's limit (or for
    earned points), else pending another's approval."""
    case = await _case(session, case_id)
    if case.status != "open":
        raise Problem(409, "Case closed", f"case {case_id} is closed: no offer can be made on it")
    today = await cases_sql.business_date_of_case(session, case_id)
    if errors := check(proposal, today, ctx.offers):
        detail = "; ".join(f"{f}: {m}" for f, m in errors)
        raise Problem(422, "Invalid offer", detail,
                      errors=[{"field": f, "message": m} for f, m in errors])  # fmt: skip
    amount = amount_of(proposal, ctx.offers)
    outstanding = await cases_sql.outstanding(session, case.loan_id)
    offer_id = uuid.uuid4()
    if proposal.kind is OfferKind.POINTS_REDEMPTION:
        assert proposal.points is not None
        await points.redeem(session, case, proposal.points, offer_id, today, ctx)
        approval: str | None = "points"
    else:
        granted = may_grant(ctx.offers.limits, roles, amount, outstanding)
        approval = "creator_limit" if granted else None
    values = _values(proposal, case, offer_id, amount, today, actor, ctx) | {
        "status": Status.APPROVED if approval else Status.PENDING_APPROVAL,
        "approval": approval, "outstanding": outstanding,
    }  # fmt: skip
    await offers_sql.insert_offer(session, values)
    await _line(session, values, today, ctx, "offer_made")
    return values


def _values(
    p: Proposal, case: CaseRecord, offer_id: uuid.UUID, amount: Decimal, today: date,
    actor: str | None, ctx: Context,
) -> dict[str, Any]:  # fmt: skip
    schedule = None
    if p.schedule is not None:
        schedule = [{"amount": str(a), "due_on": d.isoformat()} for a, d in p.schedule]
    return {
        "offer_id": offer_id, "case_id": case.case_id, "loan_id": case.loan_id,
        "borrower_id": case.borrower_id, "kind": p.kind.value, "amount": amount,
        "pay_amount": p.pay_amount, "schedule": schedule, "points": p.points,
        "expires_on": p.expires_on, "created_by": actor or SYSTEM, "approved_by": None,
        "made_on": today, "accepted_on": None, "booked_on": None, "reason": None,
        "created_at": ctx.now(),
    }  # fmt: skip


async def approve(
    session: AsyncSession, offer_id: uuid.UUID, actor: str | None, roles: Sequence[str],
    ctx: Context,
) -> dict[str, Any]:  # fmt: skip
    """Approve a pending offer within the approver's limit; nobody approves their own."""
    offer = await _offer(session, offer_id)
    status = _move(offer, Event.APPROVE)
    if actor is None or actor == offer["created_by"]:
        raise Problem(403, "Forbidden", "nobody approves an offer they made", rule="self_approval")
    outstanding = await cases_sql.outstanding(session, offer["loan_id"])
    if may_grant(ctx.offers.limits, roles, offer["amount"], outstanding) is None:
        detail = f"{offer['amount']} is above the approval limit of roles {sorted(roles)}"
        raise Problem(403, "Above your approval limit", detail, rule="approval_limit")
    changes = {"status": status, "approved_by": actor, "approval": "approver_limit",
               "outstanding": outstanding}  # fmt: skip
    return await _save(session, offer, changes, ctx, "offer_approved")


async def accept(session: AsyncSession, offer_id: uuid.UUID, ctx: Context) -> dict[str, Any]:
    """The borrower accepted an approved offer: ask the ledger to book it."""
    offer = await _offer(session, offer_id)
    status = _move(offer, Event.ACCEPT)
    today = await cases_sql.business_date_of_case(session, offer["case_id"])
    if today > offer["expires_on"]:
        raise Problem(409, "Offer expired", f"offer {offer_id} expired on {offer['expires_on']}")
    offer = await _save(session, offer, {"status": status, "accepted_on": today}, ctx,
                        "offer_accepted")  # fmt: skip
    await request_booking(session, offer, today, ctx)
    return offer


async def request_booking(
    session: AsyncSession, offer: dict[str, Any], on: date, ctx: Context
) -> None:
    accepted = OfferAccepted(
        offer_id=offer["offer_id"], loan_id=offer["loan_id"], borrower_id=offer["borrower_id"],
        kind=OfferKind(offer["kind"]), amount=offer["amount"], accepted_on=on,
    )  # fmt: skip
    await effects.announce(session, accepted, subject=offer["loan_id"], at=ctx.now())


async def refuse(session: AsyncSession, offer_id: uuid.UUID, ctx: Context) -> dict[str, Any]:
    """The offer is refused (by the borrower, or by whoever would have approved it)."""
    offer = await _offer(session, offer_id)
    return await _end(session, offer, _move(offer, Event.REFUSE), None, ctx)


async def apply_booked(session: AsyncSession, fact: AdjustmentBooked, ctx: Context) -> None:
    offer = await offers_sql.offer(session, fact.offer_id, lock=True)
    if offer is None or next_status(Status(offer["status"]), Event.BOOKED) is None:
        return  # not ours, or answered before
    await _save(session, offer, {"status": Status.BOOKED, "booked_on": fact.booked_on}, ctx,
                "offer_booked")  # fmt: skip


async def apply_rejected(session: AsyncSession, fact: AdjustmentRejected, ctx: Context) -> None:
    offer = await offers_sql.offer(session, fact.offer_id, lock=True)
    if offer is None or next_status(Status(offer["status"]), Event.REJECTED) is None:
        return
    await _end(session, offer, Status.REJECTED, fact.reason, ctx)


async def expire_due(session: AsyncSession, business_date: date, ctx: Context) -> None:
    """At end of day: offers nobody accepted by their ``expires_on`` expire."""
    for offer in await offers_sql.expire_due(session, business_date):
        await points.give_back(session, offer, business_date, ctx)
        await _line(session, offer, business_date, ctx, "offer_expired")


async def offers_of(session: AsyncSession, case_id: uuid.UUID) -> list[dict[str, Any]]:
    return await offers_sql.offers_of(session, case_id)


async def read_offer(session: AsyncSession, offer_id: uuid.UUID) -> dict[str, Any]:
    return await _offer(session, offer_id, lock=False)


# --- helpers -------------------------------------------------------------------------------


async def _end(
    session: AsyncSession, offer: dict[str, Any], status: Status, reason: str | None,
    ctx: Context,
) -> dict[str, Any]:  # fmt: skip
    saved = await _save(session, offer, {"status": status, "reason": reason}, ctx,
                        f"offer_{status.value}")  # fmt: skip
    if status in RETURNS_POINTS:
        today = await cases_sql.business_date_of_case(session, offer["case_id"])
        await points.give_back(session, saved, today, ctx)
    return saved


def _move(offer: dict[str, Any], event: Event) -> Status:
    status = next_status(Status(offer["status"]), event)
    if status is None:
        detail = f"an offer that is {offer['status']} cannot be {event.value}d"
        raise Problem(409, "Offer cannot move so", detail, status_now=offer["status"])
    return status


async def _save(
    session: AsyncSession, offer: dict[str, Any], changes: dict[str, Any], ctx: Context,
    kind: str,
) -> dict[str, Any]:  # fmt: skip
    await offers_sql.update_offer(session, offer["offer_id"], **changes)
    saved = offer | changes
    today = await cases_sql.business_date_of_case(session, offer["case_id"])
    await _line(session, saved, today, ctx, kind)
    return saved


async def _line(
    session: AsyncSession, offer: dict[str, Any], on: date, ctx: Context, kind: str
) -> None:
    detail = {"offer_id": str(offer["offer_id"]), "kind": offer["kind"],
              "amount": str(offer["amount"]), "status": str(offer["status"])}  # fmt: skip
    await effects.timeline(session, offer["case_id"], [TimelineEntry(ctx.now(), on, kind, detail)])


async def _case(session: AsyncSession, case_id: uuid.UUID) -> CaseRecord:
    case = await cases_sql.get_case(session, case_id)
    if case is None:
        raise NotFound("case", str(case_id))
    return case


async def _offer(
    session: AsyncSession, offer_id: uuid.UUID, *, lock: bool = True
) -> dict[str, Any]:
    offer = await offers_sql.offer(session, offer_id, lock=lock)
    if offer is None:
        raise NotFound("offer", str(offer_id))
    return offer
