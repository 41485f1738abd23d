"""SQL of payments: store, find, list, mark reversed, set what stayed unapplied.

Plain SQL on the session's asyncpg connection: a payment runs a dozen of these
(shared.db.driver_connection says why).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters.tables import Base, PaymentRow
from shared.db import driver_connection
from shared.events import PaymentReceived

PAYMENT = Base.metadata.tables[PaymentRow.__tablename__]


@dataclass(frozen=True)
class StoredPayment:
    """A payment as stored (reversed ones too)."""

    payment_id: str
    loan_id: str
    amount: Decimal
    currency: str
    paid_at: datetime
    channel: str
    booked_on: date  # the business date it was booked on
    unapplied: Decimal  # what found nothing to pay (the loan was already settled)
    status: str  # applied | reversed
    reversed_at: datetime | None
    reversal_reason: str | None
    fingerprint: str
    received_at: datetime


@dataclass(frozen=True)
class LivePayment:
    """A payment not reversed, as the waterfall applies it."""

    payment_id: str
    amount: Decimal
    paid_at: datetime
    unapplied: Decimal


async def find_payment(session: AsyncSession, payment_id: str) -> StoredPayment | None:
    conn = await driver_connection(session)
    row = await conn.fetchrow("SELECT * FROM payment WHERE payment_id = $1", payment_id)
    return None if row is None else StoredPayment(**row)


INSERT_PAYMENT_SQL = """
    INSERT INTO payment (payment_id, loan_id, amount, currency, paid_at, channel, booked_on,
                         fingerprint, unapplied, status)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 'applied')
    ON CONFLICT (payment_id) DO NOTHING
    RETURNING payment_id
"""


async def insert_payment(
    session: AsyncSession, payment: PaymentReceived, *, booked_on: date, fingerprint: str
) -> bool:
    """Store a received payment; False when its id is already taken."""
    conn = await driver_connection(session)
    p = payment
    values = (p.payment_id, p.loan_id, p.amount, p.currency, p.paid_at, p.channel, booked_on)
    return await conn.fetchval(INSERT_PAYMENT_SQL, *values, fingerprint) is not None


async def live_payments(session: AsyncSession, loan_id: str) -> list[LivePayment]:
    """The loan's payments not reversed, in the order they apply."""
    conn = await driver_connection(session)
    query = """
        SELECT payment_id, amount, paid_at, unapplied FROM payment
        WHERE loan_id = $1 AND status = 'applied' ORDER BY paid_at, payment_id
    """
    return [LivePayment(**r) for r in await conn.fetch(query, loan_id)]


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
) -> list[StoredPayment]:
    """A loan's payments (reversed ones too) in the order they apply, keyset-paginated."""
    query = (
        sa.select(PAYMENT)
        .where(PAYMENT.c.loan_id == loan_id)
        .order_by(PAYMENT.c.paid_at, PAYMENT.c.payment_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(sa.tuple_(PAYMENT.c.paid_at, PAYMENT.c.payment_id) > sa.tuple_(*after))
    return [StoredPayment(**r) for r in (await session.execute(query)).mappings()]
