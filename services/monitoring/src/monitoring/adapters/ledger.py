"""Ledger persistence: payments, their allocations, instalment balances and products.

Writes are set-based: an allocation changes as one ``DELETE`` and one ``INSERT … ON CONFLICT``
of the rows that differ, and the instalments' paid amounts move by one ``UPDATE … FROM
unnest(…)`` of deltas, whatever the number of payments re-derived. Arrays rather than
``VALUES`` lists keep each statement's text fixed, so that it is prepared once per connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters.tables import (
    Base,
    LoanRow,
    PaymentRow,
    ProductRow,
)
from monitoring.domain.payoff import Due, Part, Parts
from shared.db import driver_connection

LOAN = Base.metadata.tables[LoanRow.__tablename__]
PAYMENT = Base.metadata.tables[PaymentRow.__tablename__]
PRODUCT = Base.metadata.tables[ProductRow.__tablename__]

#: Allocations by payment id, then by instalment ``seq``.
Allocations = dict[str, dict[int, Parts]]


@dataclass(frozen=True)
class Loan:
    """What the ledger needs of a loan, read under a row lock."""

    loan_id: str
    status: str
    currency: str
    disbursed_on: date
    product: str
    time_zone: str
    dpd: int
    bucket: str


LOAN_SQL = """
    SELECT l.loan_id, l.status, l.currency, l.disbursed_on, l.product, b.time_zone, l.dpd, l.bucket
    FROM loan l JOIN borrower b ON b.borrower_id = l.borrower_id
    WHERE l.loan_id = $1
"""


async def load_loan(session: AsyncSession, loan_id: str, *, lock: bool = True) -> Loan | None:
    """The loan, by default locked until the transaction ends (its payments apply one by one)."""
    conn = await driver_connection(session)
    row = await conn.fetchrow(LOAN_SQL + (" FOR UPDATE OF l" if lock else ""), loan_id)
    return None if row is None else Loan(*row)


async def set_status(session: AsyncSession, loan_id: str, status: str) -> None:
    conn = await driver_connection(session)
    await conn.execute("UPDATE loan SET status = $2 WHERE loan_id = $1", loan_id, status)


def dues_from(rows: Sequence[Mapping[str, Any]], *, disbursed_on: date) -> list[Due]:
    """Instalment rows as balances; each period starts at the previous due date."""
    dues: list[Due] = []
    starts_on = disbursed_on
    for r in sorted(rows, key=lambda r: int(r["seq"])):
        owed = Parts(r["penalty"], r["fees"], r["interest"], r["principal"])
        paid = Parts(r["paid_penalty"], r["paid_fees"], r["paid_interest"], r["paid_principal"])
        dues.append(Due(r["seq"], starts_on, r["due_on"], owed, paid))
        starts_on = r["due_on"]
    return dues


async def dues(session: AsyncSession, loan: Loan, *, lock: bool = True) -> list[Due]:
    """The loan's instalments as balances, by default locked against end-of-day accrual."""
    conn = await driver_connection(session)
    query = "SELECT * FROM instalment WHERE loan_id = $1 ORDER BY seq"
    rows = await conn.fetch(query + (" FOR UPDATE" if lock else ""), loan.loan_id)
    return dues_from(rows, disbursed_on=loan.disbursed_on)


ADD_PAID_SQL = """
    UPDATE instalment i SET paid_penalty = i.paid_penalty + d.penalty,
        paid_fees = i.paid_fees + d.fees, paid_interest = i.paid_interest + d.interest,
        paid_principal = i.paid_principal + d.principal
    FROM unnest($2::int[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[])
        AS d(seq, penalty, fees, interest, principal)
    WHERE i.loan_id = $1 AND i.seq = d.seq
"""


async def add_paid(session: AsyncSession, loan_id: str, delta: Mapping[int, Parts]) -> None:
    """Move the instalments' paid amounts by ``delta`` (per ``seq``), in one statement."""
    changed = {seq: d for seq, d in delta.items() if not d.is_zero}
    if not changed:
        return
    conn = await driver_connection(session)
    parts = [[d[p] for d in changed.values()] for p in Part]
    await conn.execute(ADD_PAID_SQL, loan_id, list(changed), *parts)


# --- payments ------------------------------------------------------------------------------
# Plain SQL on the session's asyncpg connection: a payment runs a dozen of these
# (shared.db.driver_connection says why).


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


async def allocations(session: AsyncSession, payment_ids: Sequence[str]) -> Allocations:
    """The stored allocation of each payment (payments without lines map to ``{}``)."""
    found: Allocations = {pid: {} for pid in payment_ids}
    if not payment_ids:
        return found
    conn = await driver_connection(session)
    query = "SELECT * FROM allocation WHERE payment_id = ANY($1::text[])"
    for r in await conn.fetch(query, list(payment_ids)):
        found[r["payment_id"]][r["seq"]] = Parts(
            r["penalty"], r["fees"], r["interest"], r["principal"]
        )
    return found


DELETE_ALLOCATIONS_SQL = """
    DELETE FROM allocation a USING unnest($1::text[], $2::int[]) AS g(payment_id, seq)
    WHERE a.payment_id = g.payment_id AND a.seq = g.seq
"""
UPSERT_ALLOCATIONS_SQL = """
    INSERT INTO allocation (payment_id, seq, loan_id, penalty, fees, interest, principal)
    SELECT c.payment_id, c.seq, $1, c.penalty, c.fees, c.interest, c.principal
    FROM unnest($2::text[], $3::int[], $4::numeric[], $5::numeric[], $6::numeric[],
                $7::numeric[]) AS c(payment_id, seq, penalty, fees, interest, principal)
    ON CONFLICT (payment_id, seq) DO UPDATE SET penalty = excluded.penalty,
        fees = excluded.fees, interest = excluded.interest, principal = excluded.principal
"""


async def save_allocations(
    session: AsyncSession, loan_id: str, *, before: Allocations, after: Allocations
) -> None:
    """Make the stored allocations of ``after``'s payments what it says, touching only changes."""
    conn = await driver_connection(session)
    gone = [(pid, seq) for pid in after for seq in before.get(pid, {}) if seq not in after[pid]]
    if gone:
        await conn.execute(DELETE_ALLOCATIONS_SQL, *map(list, zip(*gone, strict=True)))
    changed = [
        (pid, seq, parts)
        for pid, lines in after.items()
        for seq, parts in lines.items()
        if before.get(pid, {}).get(seq) != parts
    ]
    if changed:
        ids = [pid for pid, _, _ in changed]
        seqs = [seq for _, seq, _ in changed]
        parts = [[amounts[p] for _, _, amounts in changed] for p in Part]
        await conn.execute(UPSERT_ALLOCATIONS_SQL, loan_id, ids, seqs, *parts)


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


async def loan_exists(session: AsyncSession, loan_id: str) -> bool:
    query = sa.select(sa.literal(True)).where(LOAN.c.loan_id == loan_id)
    return (await session.execute(query)).scalar_one_or_none() is not None


# --- products ------------------------------------------------------------------------------


async def product_waterfall(session: AsyncSession, product_id: str) -> list[str] | None:
    conn = await driver_connection(session)
    query = "SELECT waterfall FROM product WHERE product_id = $1"
    waterfall: list[str] | None = await conn.fetchval(query, product_id)
    return waterfall


async def get_product(
    session: AsyncSession, product_id: str, *, for_update: bool = False
) -> dict[str, Any] | None:
    query = sa.select(PRODUCT).where(PRODUCT.c.product_id == product_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().one_or_none()
    return None if row is None else dict(row)


async def insert_product(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Store a new product at version 1; False when its id is taken."""
    inserted = await session.execute(
        insert(PRODUCT)
        .values(dict(row) | {"version": 1})
        .on_conflict_do_nothing(index_elements=["product_id"])
        .returning(PRODUCT.c.product_id)
    )
    return inserted.scalar_one_or_none() is not None


async def update_product(session: AsyncSession, product_id: str, row: Mapping[str, Any]) -> None:
    """Replace a product's terms as its next version."""
    await session.execute(
        sa.update(PRODUCT)
        .where(PRODUCT.c.product_id == product_id)
        .values(dict(row) | {"version": PRODUCT.c.version + 1, "updated_at": sa.func.now()})
    )


async def list_products(
    session: AsyncSession, *, after: str | None, limit: int
) -> list[dict[str, Any]]:
    query = sa.select(PRODUCT).order_by(PRODUCT.c.product_id).limit(limit)
    if after is not None:
        query = query.where(PRODUCT.c.product_id > after)
    return [dict(r) for r in (await session.execute(query)).mappings()]


async def product_has_loans(session: AsyncSession, product_id: str) -> bool:
    query = sa.select(sa.literal(True)).where(LOAN.c.product == product_id).limit(1)
    return (await session.execute(query)).scalar_one_or_none() is not None
