"""Collections' contact preferences and disputes, mirrored (BRIEF decision 2): notify re-checks
at send time what can change after collections' decision — a stop request, a dispute."""

from __future__ import annotations

from datetime import time

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import mirrors_sql
from notify.adapters.mirrors_sql import Protections
from shared.events import DisputeChanged, PreferencesChanged

__all__ = ["Protections", "apply_dispute", "apply_preferences", "protections_of"]


async def apply_preferences(session: AsyncSession, fact: PreferencesChanged) -> None:
    window = fact.preferred_hours
    preferred = (
        (time.fromisoformat(window["from"]), time.fromisoformat(window["to"])) if window else None
    )
    await mirrors_sql.save_preferences(
        session, fact.borrower_id, sorted(fact.stopped_channels), preferred, fact.consent
    )


async def apply_dispute(session: AsyncSession, fact: DisputeChanged) -> None:
    await mirrors_sql.save_dispute(
        session, fact.dispute_id, fact.loan_id, fact.borrower_id, fact.status
    )


async def protections_of(session: AsyncSession, borrower_id: str) -> Protections:
    return await mirrors_sql.protections_of(session, borrower_id)
