"""SQL of the quadrant's inputs: the bureau's last report and behaviour in the contact ledger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
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


@dataclass(frozen=True, slots=True)
class Signals:
    """What the quadrant reads of one borrower: behaviour in the ledger, the bureau's report."""

    promises_judged: int
    promises_kept: int
    partial_payments: int
    contacts_made: int
    contacts_answered: int
    bureau_score: int | None
    bureau_score_before: int | None
    total_debt: Decimal | None
    delinquent_elsewhere: int | None

    def sides(self, principal: Decimal, tier: str | None) -> tuple[Ability, Willingness]:
        willing = Willingness(
            promises_made=self.promises_judged, promises_kept=self.promises_kept,
            contacts_made=self.contacts_made, contacts_answered=self.contacts_answered,
            partial_payments=self.partial_payments,
        )  # fmt: skip
        if self.bureau_score is None:
            return Ability(principal=principal, tier=tier), willing
        able = Ability(
            bureau_score=self.bureau_score, bureau_score_before=self.bureau_score_before,
            total_debt=self.total_debt, principal=principal,
            delinquent_elsewhere=self.delinquent_elsewhere, tier=tier,
        )  # fmt: skip
        return able, willing


async def signals_of(session: AsyncSession, borrower_ids: Sequence[str]) -> dict[str, Signals]:
    """Both sides of the quadrant for each borrower, in one round trip for all."""
    me = (
        sa.func.unnest(sa.cast(list(borrower_ids), ARRAY(sa.Text)))
        .table_valued("b")
        .render_derived(name="me")
    )
    answered = sa.func.count().filter(ATTEMPT.c.status == "connected")
    made = sa.func.count().filter(ATTEMPT.c.status.in_(("connected", "unanswered")))
    behaviour = (
        sa.select(made.label("made"), answered.label("answered"))
        .where(ATTEMPT.c.borrower_id == me.c.b)
        .lateral("behaviour")
    )
    judged = PROMISE.c.status.in_(("kept", "partly_kept", "broken"))
    promised = (
        sa.select(sa.func.count().filter(judged).label("made"),
                  sa.func.count().filter(PROMISE.c.status == "kept").label("kept"),
                  sa.func.count().filter(PROMISE.c.paid > 0).label("partial"))
        .select_from(PROMISE.join(CASE, CASE.c.case_id == PROMISE.c.case_id))
        .where(CASE.c.borrower_id == me.c.b)
        .lateral("promised")
    )  # fmt: skip
    query = sa.select(
        me.c.b, promised.c.made, promised.c.kept, promised.c.partial,
        behaviour.c.made, behaviour.c.answered, SIGNAL.c.bureau_score,
        SIGNAL.c.bureau_score_before, SIGNAL.c.total_debt, SIGNAL.c.delinquent_elsewhere,
    ).select_from(
        me.join(promised, sa.true()).join(behaviour, sa.true())
        .outerjoin(SIGNAL, SIGNAL.c.borrower_id == me.c.b)
    )  # fmt: skip
    found: dict[str, Signals] = {}
    for b, p_made, p_kept, partial, made_n, answered_n, *bureau in await session.execute(query):
        found[b] = Signals(int(p_made), int(p_kept), int(partial), int(made_n), int(answered_n),
                           *bureau)  # fmt: skip
    return found


async def signals(
    session: AsyncSession, borrower_id: str, principal: Decimal, tier: str | None
) -> tuple[Ability, Willingness]:
    """Both sides of one borrower's quadrant."""
    return (await signals_of(session, [borrower_id]))[borrower_id].sides(principal, tier)
