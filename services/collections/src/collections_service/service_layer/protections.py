"""Contact preferences and disputes: they hold from the moment they are stored (the guard reads
them on every decision) and notify is told through the outbox to mirror them at send time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import cases_sql, contacts_sql
from collections_service.adapters.contacts_sql import Preferences
from collections_service.service_layer import effects
from shared.events import DisputeOpened, DisputeResolved, PreferencesChanged
from shared.problems import NotFound, Problem


@dataclass(frozen=True, slots=True)
class Dispute:
    dispute_id: uuid.UUID
    loan_id: str
    borrower_id: str
    reason: str
    status: str
    resolution: str | None
    opened_at: datetime
    resolved_at: datetime | None


async def set_preferences(
    session: AsyncSession,
    borrower_id: str,
    stopped: list[str],
    hours: tuple[time, time] | None,
    consent: bool,
    now: datetime,
) -> Preferences:
    if not await cases_sql.borrower_known(session, borrower_id):
        raise NotFound("borrower", borrower_id)
    prefs = Preferences(
        tuple(sorted(set(stopped))),
        hours[0] if hours else None,
        hours[1] if hours else None,
        consent,
        now,
    )
    await contacts_sql.save_preferences(session, borrower_id, prefs)
    window = (
        {"from": hours[0].strftime("%H:%M"), "to": hours[1].strftime("%H:%M")} if hours else None
    )
    changed = PreferencesChanged(
        borrower_id=borrower_id,
        stopped_channels=list(prefs.stopped_channels),
        preferred_hours=window,
        consent=consent,
    )
    await effects.announce(session, changed, subject=borrower_id, at=now)
    return prefs


async def open_dispute(session: AsyncSession, loan_id: str, reason: str, now: datetime) -> Dispute:
    ref = await cases_sql.loan_ref(session, loan_id)
    if ref is None:
        raise NotFound("loan", loan_id)
    dispute_id, borrower_id = uuid.uuid4(), str(ref["borrower_id"])
    await contacts_sql.insert_dispute(
        session,
        {
            "dispute_id": dispute_id,
            "loan_id": loan_id,
            "borrower_id": borrower_id,
            "reason": reason,
            "status": "open",
            "opened_at": now,
        },
    )
    opened = DisputeOpened(
        dispute_id=dispute_id, loan_id=loan_id, borrower_id=borrower_id, status="open"
    )
    await effects.announce(session, opened, subject=loan_id, at=now)
    return await get_dispute(session, dispute_id)


async def get_dispute(
    session: AsyncSession, dispute_id: uuid.UUID, *, lock: bool = False
) -> Dispute:
    row = await contacts_sql.dispute(session, dispute_id, lock=lock)
    if row is None:
        raise NotFound("dispute", str(dispute_id))
    return Dispute(**{k: row[k] for k in Dispute.__dataclass_fields__})


async def resolve_dispute(
    session: AsyncSession,
    dispute_id: uuid.UUID,
    resolution: Literal["upheld", "rejected"],
    now: datetime,
) -> Dispute:
    dispute = await get_dispute(session, dispute_id, lock=True)
    if dispute.status != "open":
        raise Problem(
            409, "Dispute already resolved", f"dispute {dispute_id} was {dispute.resolution}"
        )
    await contacts_sql.resolve_dispute(session, dispute_id, resolution, now)
    resolved = DisputeResolved(
        dispute_id=dispute_id,
        loan_id=dispute.loan_id,
        borrower_id=dispute.borrower_id,
        status="resolved",
        resolution=resolution,
    )
    await effects.announce(session, resolved, subject=dispute.loan_id, at=now)
    return await get_dispute(session, dispute_id)
