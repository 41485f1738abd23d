"""SQL of offers, the on-time points ledger and what payments paid on each instalment."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.offer_tables import InstalmentPaidRow, OfferRow, PointsEntryRow
from collections_service.adapters.tables import Base, CaseRow, LoanRefRow

OFFER = Base.metadata.tables[OfferRow.__tablename__]
POINTS = Base.metadata.tables[PointsEntryRow.__tablename__]
PAID = Base.metadata.tables[InstalmentPaidRow.__tablename__]
LOAN = Base.metadata.tables[LoanRefRow.__tablename__]
CASE = Base.metadata.tables[CaseRow.__tablename__]


async def insert_offer(session: AsyncSession, values: Mapping[str, Any]) -> bool:
    """Store a new offer; False when one with its id exists (a derived id seen before)."""
    stmt = insert(OFFER).values(dict(values)).on_conflict_do_nothing(index_elements=["offer_id"])
    return bool((await session.execute(stmt.returning(OFFER.c.offer_id))).first())


async def offer(
    session: AsyncSession, offer_id: uuid.UUID, *, lock: bool = False
) -> dict[str, Any] | None:
    query = sa.select(OFFER).where(OFFER.c.offer_id == offer_id)
    row = (await session.execute(query.with_for_update() if lock else query)).mappings().first()
    return dict(row) if row else None


async def update_offer(session: AsyncSession, offer_id: uuid.UUID, **values: object) -> None:
    await session.execute(sa.update(OFFER).where(OFFER.c.offer_id == offer_id).values(values))


async def offers_of(session: AsyncSession, case_id: uuid.UUID) -> list[dict[str, Any]]:
    query = sa.select(OFFER).where(OFFER.c.case_id == case_id).order_by(OFFER.c.created_at)
    return [dict(r) for r in (await session.execute(query)).mappings()]


async def expire_due(session: AsyncSession, business_date: date) -> list[dict[str, Any]]:
    """Mark every offer still waiting past its ``expires_on`` expired, in one statement."""
    stmt = (
        sa.update(OFFER)
        .where(
            OFFER.c.status.in_(("pending_approval", "approved")),
            OFFER.c.expires_on < business_date,
        )
        .values(status="expired")
        .returning(OFFER)
    )
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


# --- points --------------------------------------------------------------------------------


async def add_points(session: AsyncSession, entries: Sequence[Mapping[str, Any]]) -> int:
    """Add ledger entries, skipping those whose key is there already; how many were added."""
    if not entries:
        return 0
    stmt = insert(POINTS).values([dict(e) for e in entries]).on_conflict_do_nothing()
    return len((await session.execute(stmt.returning(POINTS.c.entry_key))).all())


async def lock_borrower_points(session: AsyncSession, borrower_id: str) -> None:
    """Serialise moves of one borrower's points for the rest of the transaction."""
    key = sa.func.hashtextextended(f"points|{borrower_id}", 0)
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


async def balance(session: AsyncSession, borrower_id: str) -> int:
    query = sa.select(sa.func.coalesce(sa.func.sum(POINTS.c.points), 0)).where(
        POINTS.c.borrower_id == borrower_id
    )
    return int(await session.scalar(query) or 0)


async def entries(session: AsyncSession, borrower_id: str) -> list[dict[str, Any]]:
    query = (
        sa.select(POINTS)
        .where(POINTS.c.borrower_id == borrower_id)
        .order_by(POINTS.c.created_at, POINTS.c.entry_key)
    )
    return [dict(r) for r in (await session.execute(query)).mappings()]


# --- what payments paid per instalment -----------------------------------------------------


async def record_paid(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """What a payment paid per instalment (a redelivered payment adds nothing)."""
    if rows:
        await session.execute(insert(PAID).values([dict(r) for r in rows]).on_conflict_do_nothing())


async def forget_paid(session: AsyncSession, payment_id: str) -> None:
    await session.execute(sa.delete(PAID).where(PAID.c.payment_id == payment_id))


async def completed_on(
    session: AsyncSession, loan_id: str, seqs: Sequence[int]
) -> dict[int, tuple[date, date]]:
    """Of ``seqs``, the instalments paid in full (principal, interest, fees): their due date and
    the booking date of the payment that completed them."""
    running = sa.func.sum(PAID.c.billed).over(
        partition_by=PAID.c.seq, order_by=(PAID.c.booked_on, PAID.c.payment_id)
    )
    paid = (
        sa.select(PAID.c.seq, PAID.c.booked_on, running.label("paid"))
        .where(PAID.c.loan_id == loan_id, PAID.c.seq.in_(seqs))
        .subquery()
    )
    due = sa.func.coalesce(LOAN.c.due_amounts[paid.c.seq], 0)
    query = (
        sa.select(paid.c.seq, sa.func.min(paid.c.booked_on), LOAN.c.due_dates[paid.c.seq])
        .select_from(paid.join(LOAN, LOAN.c.loan_id == loan_id))
        .where(paid.c.paid >= due, due > 0)
        .group_by(paid.c.seq, LOAN.c.due_dates[paid.c.seq])
    )
    return {seq: (done, due_on) for seq, done, due_on in (await session.execute(query)).all()}


async def penalty_paid(session: AsyncSession, loan_id: str, since: date) -> Decimal:
    """The penalty payments booked on or after ``since`` paid on the loan."""
    query = sa.select(sa.func.coalesce(sa.func.sum(PAID.c.penalty), 0)).where(
        PAID.c.loan_id == loan_id, PAID.c.booked_on >= since
    )
    return Decimal(await session.scalar(query) or 0)


async def earned_seqs(session: AsyncSession, loan_id: str, seqs: Sequence[int]) -> list[int]:
    """Of ``seqs``, the instalments whose points stand (earned and not clawed back since)."""
    keys = [f"earned|{loan_id}|{seq}" for seq in seqs]
    earned = sa.select(POINTS.c.entry_key).where(POINTS.c.entry_key.in_(keys))
    found = {str(k).rsplit("|", 1)[1] for k in (await session.scalars(earned)).all()}
    clawed = sa.select(POINTS.c.entry_key).where(
        POINTS.c.loan_id == loan_id, POINTS.c.reason == "clawed_back"
    )
    for key in (await session.scalars(clawed)).all():
        found.discard(str(key).split("|")[2])
    return sorted(int(s) for s in found)


async def cured_case(session: AsyncSession, loan_id: str, on: date) -> dict[str, Any] | None:
    """The loan's case that closed as cured on ``on``, if any."""
    query = sa.select(CASE).where(
        CASE.c.loan_id == loan_id, CASE.c.close_reason == "cured", CASE.c.closed_on == on
    )
    row = (await session.execute(query.order_by(CASE.c.opened_on.desc()))).mappings().first()
    return dict(row) if row else None
