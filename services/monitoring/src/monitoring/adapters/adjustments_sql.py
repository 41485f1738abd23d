"""SQL of booked offers: the adjustment rows, and instalments' owed amounts lowered by relief."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.domain.payoff import Part, Parts
from shared.db import driver_connection


async def find(session: AsyncSession, offer_id: uuid.UUID) -> dict[str, Any] | None:
    conn = await driver_connection(session)
    row = await conn.fetchrow("SELECT * FROM adjustment WHERE offer_id = $1", offer_id)
    return None if row is None else dict(row)


async def credited_before(session: AsyncSession, loan_id: str, kinds: tuple[str, ...]) -> Decimal:
    """The principal credits earlier bookings of ``kinds`` took on the loan."""
    conn = await driver_connection(session)
    query = """SELECT coalesce(sum(credit), 0) FROM adjustment
               WHERE loan_id = $1 AND status = 'booked' AND kind = ANY($2::text[])"""
    found: Decimal = await conn.fetchval(query, loan_id, list(kinds))
    return found


async def insert(session: AsyncSession, row: Mapping[str, Any]) -> None:
    conn = await driver_connection(session)
    await conn.execute(
        """INSERT INTO adjustment (offer_id, loan_id, kind, amount, status, credit, lines,
                                   reason, booked_on)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)""",
        row["offer_id"], row["loan_id"], row["kind"], row["amount"], row["status"],
        row["credit"], json.dumps(row["lines"]), row["reason"], row["booked_on"],
    )  # fmt: skip


LOWER_OWED_SQL = """
    UPDATE instalment i SET penalty = i.penalty - d.penalty, fees = i.fees - d.fees,
        interest = i.interest - d.interest, principal = i.principal - d.principal
    FROM unnest($2::int[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[])
        AS d(seq, penalty, fees, interest, principal)
    WHERE i.loan_id = $1 AND i.seq = d.seq
"""


async def lower_owed(session: AsyncSession, loan_id: str, relief: Mapping[int, Parts]) -> None:
    """Lower the instalments' owed amounts by ``relief`` (per ``seq``), in one statement."""
    if not relief:
        return
    conn = await driver_connection(session)
    parts = [[r[p] for r in relief.values()] for p in Part]
    await conn.execute(LOWER_OWED_SQL, loan_id, list(relief), *parts)
