"""SQL of the quadrant's inputs: the bureau's last report and behaviour in the contact ledger."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.tables import (
    Base,
    BorrowerSignalRow,
    CaseRow,
    ContactAttemptRow,
    PromiseRow,
)
from collections_service.domain.quadrant import Ability, Willingness

SIGNAL = Base.metadata.tables[BorrowerSignalRow.__tablename__]
ATTEMPT = Base.metadata.tables[ContactAttemptRow.__tablename__]
PROMISE = Base.metadata.tables[PromiseRow.__tablename__]
CASE = Base.metadata.tables[CaseRow.__tablename__]


async def save_report(
    session: AsyncSession,
    borrower_id: str,
    *,
    score: int,
    total_debt: Decimal,
    delinquent: int,
    reported_at: datetime,
) -> bool:
    """Keep the newer report (the previous score becomes ``before``); False for an older one."""
    values = {
        "bureau_score": score,
        "total_debt": total_debt,
        "delinquent_elsewhere": delinquent,
        "reported_at": reported_at,
    }
    stmt = insert(SIGNAL).values(borrower_id=borrower_id, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["borrower_id"],
        set_={
            **{k: stmt.excluded[k] for k in values},
            "bureau_score_before": SIGNAL.c.bureau_score,
        },
        where=SIGNAL.c.reported_at < stmt.excluded.reported_at,
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def signals(
    session: AsyncSession, borrower_id: str, principal: Decimal, tier: str | None
) -> tuple[Ability, Willingness]:
    """Both sides of the quadrant in one round trip."""
    answered = sa.func.count().filter(ATTEMPT.c.status == "connected")
    made = sa.func.count().filter(ATTEMPT.c.status.in_(("connected", "unanswered")))
    behaviour = (
        sa.select(made.label("made"), answered.label("answered"))
        .where(ATTEMPT.c.borrower_id == borrower_id)
        .subquery()
    )
    judged = PROMISE.c.status.in_(("kept", "partly_kept", "broken"))
    promised = (
        sa.select(sa.func.count().filter(judged).label("made"),
                  sa.func.count().filter(PROMISE.c.status == "kept").label("kept"),
                  sa.func.count().filter(PROMISE.c.paid > 0).label("partial"))
        .select_from(PROMISE.join(CASE, CASE.c.case_id == PROMISE.c.case_id))
        .where(CASE.c.borrower_id == borrower_id)
        .subquery()
    )  # fmt: skip
    query = sa.select(
        promised.c.made, promised.c.kept, promised.c.partial,
        behaviour.c.made, behaviour.c.answered, SIGNAL.c.bureau_score,
        SIGNAL.c.bureau_score_before, SIGNAL.c.total_debt, SIGNAL.c.delinquent_elsewhere,
    ).select_from(
        promised.join(behaviour, sa.true()).outerjoin(SIGNAL, SIGNAL.c.borrower_id == borrower_id)
    )  # fmt: skip
    row = (await session.execute(query)).one()
    p_made, p_kept, partial, made_n, answered_n, score, before, debt, delinquent = row
    willing = Willingness(
        promises_made=int(p_made), promises_kept=int(p_kept), contacts_made=int(made_n),
        contacts_answered=int(answered_n), partial_payments=int(partial),
    )  # fmt: skip
    if score is None:
        return Ability(principal=principal, tier=tier), willing
    able = Ability(
        bureau_score=score, bureau_score_before=before, total_debt=debt, principal=principal,
        delinquent_elsewhere=delinquent, tier=tier,
    )  # fmt: skip
    return able, willing
