"""Use cases of the on-time points ledger: earn, redeem, give back, claw back.

Every move is an entry whose key names its cause (``earned|<loan>|<seq>``,
``redeemed|<offer>``, ...): the same cause again adds nothing, so redelivered payments and
re-sent answers cannot move a balance twice. Moves of one borrower are serialised by an
advisory lock, so a balance is never spent twice.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import offers_sql
from collections_service.adapters.cases_sql import CaseRecord
from collections_service.service_layer.clock import Context
from shared.problems import Problem


def _entry(
    key: str, borrower_id: str, loan_id: str, points: int, reason: str, on: date, ctx: Context
) -> dict[str, Any]:
    return {"entry_key": key, "borrower_id": borrower_id, "loan_id": loan_id, "points": points,
            "reason": reason, "on": on, "created_at": ctx.now()}  # fmt: skip


async def earn(
    session: AsyncSession, borrower_id: str, loan_id: str, seqs: list[int], on: date,
    ctx: Context,
) -> int:  # fmt: skip
    """Points for each of ``seqs`` paid on time (once per instalment); how many entries."""
    worth = ctx.offers.points_per_instalment
    entries = [
        _entry(f"earned|{loan_id}|{seq}", borrower_id, loan_id, worth, "earned", on, ctx)
        for seq in seqs
    ]
    return await offers_sql.add_points(session, entries)


async def claw_back(
    session: AsyncSession, borrower_id: str, loan_id: str, seq: int, payment_id: str, on: date,
    ctx: Context,
) -> None:  # fmt: skip
    """Take back the points of an instalment whose on-time payment was reversed."""
    key = f"clawed_back|{loan_id}|{seq}|{payment_id}"
    worth = -ctx.offers.points_per_instalment
    await offers_sql.add_points(session, [_entry(key, borrower_id, loan_id, worth,
                                                 "clawed_back", on, ctx)])  # fmt: skip


async def redeem(
    session: AsyncSession, case: CaseRecord, points: int, offer_id: uuid.UUID, on: date,
    ctx: Context,
) -> None:  # fmt: skip
    """Reserve ``points`` of the borrower's balance for a redemption offer (422 if short)."""
    await offers_sql.lock_borrower_points(session, case.borrower_id)
    held = await offers_sql.balance(session, case.borrower_id)
    if points > held:
        message = f"the borrower has {held} points"
        raise Problem(422, "Not enough points", message,
                      errors=[{"field": "points", "message": message}])  # fmt: skip
    entry = _entry(f"redeemed|{offer_id}", case.borrower_id, case.loan_id, -points, "redeemed",
                   on, ctx)  # fmt: skip
    await offers_sql.add_points(session, [entry])


async def give_back(session: AsyncSession, offer: dict[str, Any], on: date, ctx: Context) -> None:
    """A redemption that ended unbooked returns its points."""
    if not offer.get("points"):
        return
    entry = _entry(f"returned|{offer['offer_id']}", offer["borrower_id"], offer["loan_id"],
                   int(offer["points"]), "returned", on, ctx)  # fmt: skip
    await offers_sql.add_points(session, [entry])


async def statement(session: AsyncSession, borrower_id: str) -> tuple[int, list[dict[str, Any]]]:
    """The borrower's balance and every entry, oldest first."""
    return await offers_sql.balance(session, borrower_id), await offers_sql.entries(
        session, borrower_id
    )
