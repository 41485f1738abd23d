"""SQL of payments: store, find, list, mark reversed, set what stayed unapplied.

Plain SQL on the session's asyncpg connection: a payment runs a dozen of these
(shared.db.driver_connection says why).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters.tables import Base, PaymentRow
from shared.db import driver_connection

PAYMENT = Base.metadata.tables[PaymentRow.__tablename__]


async def find_payment(session: AsyncSession, payment_id: str) -> dict[str, Any] | None:
    conn = await driver_connection(session)
    row = await conn.fetchrow("SELECT * FROM payment WHERE payment_id = $1", payment_id)
    return None if row is None else dict(row)


INSERT_PAYMENT_SQL = """
    INSERT INTO payment (payment_id, loan_id, amount, currency, paid_at, channel, booked_on,
                         fingerprint, unapplied, status)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 'applied')
    ON CONFLICT (payment_id) DO NOTHING
    RETURNING payment_id
"""


async def insert_payment(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Store a received payment; False when its id is already taken."""
    conn = await driver_connection(session)
    columns = ("payment_id", "loan_id", "amount", "currency", "paid_at", "channel", "booked_on")
    values = [row[c] for c in (*columns, "fingerprint")]
    return await conn.fetchval(INSERT_PAYMENT_SQL, *values) is not None


async def live_payments(session: AsyncSession, loan_id: str) -> list[dict[str, Any]]:
    """The loan's payments not reversed, in the order they apply."""
    conn = await driver_connection(session)
    query = """
        SELECT payment_id, amount, paid_at, unapplied FROM payment
        WHERE loan_id = $1 AND status = 'applied' ORDER BY paid_at, payment_id
    """
    return [dict(r) for r in await conn.fetch(query, loan_id)]


async def set_unapplied(session: AsyncSession, amounts: Mapping[str, Decimal]) -> None:
    if not amounts:
        return
    conn = await driver_connection(session)
    await conn.execute(
        """
        UPDATE payment p SET unapplied = u.unapplied
        FROM unnest($1::text[], $2::numeric[]) AS u(payment_id, unapplied)
        WHERE p.payment_id = u.payment_id
        """,
        list(amounts),
        list(amounts.values()),
    )


async def mark_reversed(
    session: AsyncSession, payment_id: str, *, reversed_at: datetime, reason: str
) -> None:
    conn = await driver_connection(session)
    await conn.execute(
        """
        UPDATE payment SET status = 'reversed', reversed_at = $2, reversal_reason = $3
        WHERE payment_id = $1
        """,
        payment_id,
        reversed_at,
        reason,
    )


async def payments_of(
    session: AsyncSession, loan_id: str, *, after: tuple[datetime, str] | None, limit: int
) -> list[dict[str, Any]]:
    """A loan's payments (reversed ones too) in the order they apply, keyset-paginated."""
    query = (
        sa.select(PAYMENT)
        .where(PAYMENT.c.loan_id == loan_id)
        .order_by(PAYMENT.c.paid_at, PAYMENT.c.payment_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(sa.tuple_(PAYMENT.c.paid_at, PAYMENT.c.payment_id) > sa.tuple_(*after))
    return [dict(r) for r in (await session.execute(query)).mappings()]
