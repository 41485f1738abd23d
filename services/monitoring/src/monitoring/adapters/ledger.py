"""Ledger persistence: payments, their allocations, instalment balances and products.

Writes are set-based: an allocation changes as one ``DELETE`` and one ``INSERT … ON CONFLICT``
of the rows that differ, and the instalments' paid amounts move by one ``UPDATE … FROM
(VALUES …)`` of deltas, whatever the number of payments re-derived.
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
    MONEY,
    AllocationRow,
    Base,
    BorrowerRow,
    InstalmentRow,
    LoanRow,
    PaymentRow,
    ProductRow,
)
from monitoring.domain.payoff import Due, Part, Parts

LOAN = Base.metadata.tables[LoanRow.__tablename__]
BORROWER = Base.metadata.tables[BorrowerRow.__tablename__]
INSTALMENT = Base.metadata.tables[InstalmentRow.__tablename__]
PAYMENT = Base.metadata.tables[PaymentRow.__tablename__]
ALLOCATION = Base.metadata.tables[AllocationRow.__tablename__]
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


async def load_loan(session: AsyncSession, loan_id: str, *, lock: bool = True) -> Loan | None:
    """The loan, by default locked until the transaction ends (its payments apply one by one)."""
    query = (
        sa.select(
            LOAN.c.loan_id,
            LOAN.c.status,
            LOAN.c.currency,
            LOAN.c.disbursed_on,
            LOAN.c.product,
            BORROWER.c.time_zone,
            LOAN.c.dpd,
            LOAN.c.bucket,
        )
        .join(BORROWER, BORROWER.c.borrower_id == LOAN.c.borrower_id)
        .where(LOAN.c.loan_id == loan_id)
    )
    if lock:
        query = query.with_for_update(of=LOAN)
    row = (await session.execute(query)).one_or_none()
    return None if row is None else Loan(*row)


async def set_status(session: AsyncSession, loan_id: str, status: str) -> None:
    await session.execute(sa.update(LOAN).where(LOAN.c.loan_id == loan_id).values(status=status))


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
    query = (
        sa.select(INSTALMENT).where(INSTALMENT.c.loan_id == loan.loan_id).order_by(INSTALMENT.c.seq)
    )
    if lock:
        query = query.with_for_update()
    rows = [dict(r) for r in (await session.execute(query)).mappings()]
    return dues_from(rows, disbursed_on=loan.disbursed_on)


async def add_paid(session: AsyncSession, loan_id: str, delta: Mapping[int, Parts]) -> None:
    """Move the instalments' paid amounts by ``delta`` (per ``seq``), in one statement."""
    changed = {seq: d for seq, d in delta.items() if not d.is_zero}
    if not changed:
        return
    columns: list[sa.ColumnClause[Any]] = [sa.column("seq", sa.Integer)]
    columns += [sa.column(p.value, MONEY) for p in Part]
    values = sa.values(*columns, name="delta").data(
        [(seq, *(d[p] for p in Part)) for seq, d in changed.items()]
    )
    await session.execute(
        sa.update(INSTALMENT)
        .where(INSTALMENT.c.loan_id == loan_id, INSTALMENT.c.seq == values.c.seq)
        .values(
            {f"paid_{p.value}": INSTALMENT.c[f"paid_{p.value}"] + values.c[p.value] for p in Part}
        )
    )


# --- payments ------------------------------------------------------------------------------


async def find_payment(session: AsyncSession, payment_id: str) -> dict[str, Any] | None:
    query = sa.select(PAYMENT).where(PAYMENT.c.payment_id == payment_id)
    row = (await session.execute(query)).mappings().one_or_none()
    return None if row is None else dict(row)


async def insert_payment(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Store a received payment; False when its id is already taken."""
    inserted = await session.execute(
        insert(PAYMENT)
        .values(dict(row))
        .on_conflict_do_nothing(index_elements=["payment_id"])
        .returning(PAYMENT.c.payment_id)
    )
    return inserted.scalar_one_or_none() is not None


async def live_payments(session: AsyncSession, loan_id: str) -> list[dict[str, Any]]:
    """The loan's payments not reversed, in the order they apply."""
    query = (
        sa.select(PAYMENT.c.payment_id, PAYMENT.c.amount, PAYMENT.c.paid_at, PAYMENT.c.unapplied)
        .where(PAYMENT.c.loan_id == loan_id, PAYMENT.c.status == "applied")
        .order_by(PAYMENT.c.paid_at, PAYMENT.c.payment_id)
    )
    return [dict(r) for r in (await session.execute(query)).mappings()]


async def allocations(session: AsyncSession, payment_ids: Sequence[str]) -> Allocations:
    """The stored allocation of each payment (payments without lines map to ``{}``)."""
    found: Allocations = {pid: {} for pid in payment_ids}
    if not payment_ids:
        return found
    query = sa.select(ALLOCATION).where(ALLOCATION.c.payment_id.in_(payment_ids))
    for r in (await session.execute(query)).mappings():
        found[r["payment_id"]][r["seq"]] = Parts(
            r["penalty"], r["fees"], r["interest"], r["principal"]
        )
    return found


async def save_allocations(
    session: AsyncSession, loan_id: str, *, before: Allocations, after: Allocations
) -> None:
    """Make the stored allocations of ``after``'s payments what it says, touching only changes."""
    gone = [(pid, seq) for pid in after for seq in before.get(pid, {}) if seq not in after[pid]]
    if gone:
        key = sa.tuple_(ALLOCATION.c.payment_id, ALLOCATION.c.seq)
        await session.execute(sa.delete(ALLOCATION).where(key.in_(gone)))
    changed = [
        {"payment_id": pid, "seq": seq, "loan_id": loan_id} | {p.value: parts[p] for p in Part}
        for pid, lines in after.items()
        for seq, parts in lines.items()
        if before.get(pid, {}).get(seq) != parts
    ]
    if changed:
        statement = insert(ALLOCATION).values(changed)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["payment_id", "seq"],
                set_={p.value: statement.excluded[p.value] for p in Part},
            )
        )


async def set_unapplied(session: AsyncSession, amounts: Mapping[str, Decimal]) -> None:
    if not amounts:
        return
    values = sa.values(
        sa.column("payment_id", sa.String), sa.column("unapplied", MONEY), name="u"
    ).data(list(amounts.items()))
    await session.execute(
        sa.update(PAYMENT)
        .where(PAYMENT.c.payment_id == values.c.payment_id)
        .values(unapplied=values.c.unapplied)
    )


async def mark_reversed(
    session: AsyncSession, payment_id: str, *, reversed_at: datetime, reason: str
) -> None:
    await session.execute(
        sa.update(PAYMENT)
        .where(PAYMENT.c.payment_id == payment_id)
        .values(status="reversed", reversed_at=reversed_at, reversal_reason=reason)
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
    query = sa.select(PRODUCT.c.waterfall).where(PRODUCT.c.product_id == product_id)
    waterfall: list[str] | None = (await session.execute(query)).scalar_one_or_none()
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
