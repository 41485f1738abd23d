"""What a simulation reads: the cases open in a period, with their moves, borrower and pack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.cases_sql import BORROWER, CASE, LOAN, STATE, TIMELINE
from collections_service.adapters.contacts_sql import DISPUTE, PREFERENCE
from collections_service.domain.simulation import CaseHistory, Move


@dataclass(frozen=True, slots=True)
class StoredCase:
    history: CaseHistory
    borrower_id: str
    time_zone: str
    pack: str
    stopped_channels: tuple[str, ...]


async def cases_in(
    session: AsyncSession, products: frozenset[str], start: date, end: date
) -> list[StoredCase]:
    """Cases of ``products`` open at some point of [start, end], with every move (two queries)."""
    query = (
        sa.select(
            CASE.c.case_id,
            CASE.c.loan_id,
            CASE.c.borrower_id,
            CASE.c.opened_on,
            CASE.c.closed_on,
            CASE.c.tier,
            CASE.c.quadrant,
            CASE.c.pack,
            BORROWER.c.time_zone,
            sa.func.coalesce(STATE.c.outstanding, LOAN.c.principal).label("outstanding"),
            sa.func.coalesce(
                PREFERENCE.c.stopped_channels, sa.literal([], sa.ARRAY(sa.Text))
            ).label("stopped"),
        )
        .join(LOAN, LOAN.c.loan_id == CASE.c.loan_id)
        .join(BORROWER, BORROWER.c.borrower_id == CASE.c.borrower_id)
        .outerjoin(STATE, STATE.c.loan_id == CASE.c.loan_id)
        .outerjoin(PREFERENCE, PREFERENCE.c.borrower_id == CASE.c.borrower_id)
        .where(
            LOAN.c.product.in_(sorted(products)),
            CASE.c.opened_on <= end,
            sa.or_(CASE.c.closed_on.is_(None), CASE.c.closed_on > start),
        )
        .order_by(CASE.c.opened_on, CASE.c.case_id)
    )
    cases = (await session.execute(query)).mappings().all()
    moves = await _moves(session, [c["case_id"] for c in cases])
    return [
        StoredCase(
            CaseHistory(
                str(c["case_id"]),
                c["loan_id"],
                tuple(moves.get(c["case_id"], ())),
                c["closed_on"],
                Decimal(c["outstanding"]),
                c["tier"],
                c["quadrant"],
            ),
            c["borrower_id"],
            c["time_zone"],
            c["pack"],
            tuple(c["stopped"]),
        )
        for c in cases
    ]


async def _moves(session: AsyncSession, case_ids: list[object]) -> dict[object, list[Move]]:
    if not case_ids:
        return {}
    bucket = TIMELINE.c.detail[sa.case((TIMELINE.c.kind == "opened", "bucket"), else_="to")].astext
    query = (
        sa.select(
            TIMELINE.c.case_id,
            TIMELINE.c.business_date,
            bucket,
            TIMELINE.c.detail["dpd"].astext.cast(sa.Integer),
        )
        .where(TIMELINE.c.case_id.in_(case_ids), TIMELINE.c.kind.in_(("opened", "bucket_changed")))
        .order_by(TIMELINE.c.case_id, TIMELINE.c.id)
    )
    found: dict[object, list[Move]] = {}
    for case_id, on, to, dpd in (await session.execute(query)).all():
        found.setdefault(case_id, []).append(Move(on, to, dpd))
    return found


async def disputes_between(
    session: AsyncSession, start: date, end: date
) -> list[tuple[str, date, date | None]]:
    """(loan id, opened on, resolved on) of the disputes open at some point of the period."""
    opened, resolved = (
        sa.cast(DISPUTE.c.opened_at, sa.Date),
        sa.cast(DISPUTE.c.resolved_at, sa.Date),
    )
    query = sa.select(DISPUTE.c.loan_id, opened, resolved).where(
        opened <= end, sa.or_(resolved.is_(None), resolved >= start)
    )
    return [(loan, o, r) for loan, o, r in (await session.execute(query)).all()]
