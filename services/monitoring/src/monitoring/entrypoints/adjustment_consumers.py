"""Consumer of the offers collections had accepted: book each in the ledger (a handler-table
row; ``consumers`` builds the tables)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.service_layer.adjustments import book_offer
from shared.events import CloudEvent, OfferAccepted
from shared.messaging.consumer import On


async def on_offer_accepted(session: AsyncSession, _: CloudEvent, payload: OfferAccepted) -> None:
    """Book an accepted offer off its loan, once (``monitoring.adjustment.booked``)."""
    await book_offer(session, payload)


#: Stream POSTLOAN_COLLECTIONS.
COLLECTIONS: tuple[On[Any], ...] = (On(OfferAccepted, on_offer_accepted, domain="collections"),)
