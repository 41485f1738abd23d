"""SQL of contacts: the decisions log, the contact ledger, preferences, disputes, deferrals."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import RowMapping
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import access_sql
from collections_service.adapters.tables import (
    Base,
    BorrowerRefRow,
    CaseRow,
    ContactAttemptRow,
    ContactDecisionRow,
    ContactPreferenceRow,
    DeferredContactRow,
    DisputeRow,
    InvalidNumberRow,
    LoanRefRow,
    LoanStateRow,
    PromiseRow,
)
from shared.principal import Principal

DECISION = Base.metadata.tables[ContactDecisionRow.__tablename__]
ATTEMPT = Base.metadata.tables[ContactAttemptRow.__tablename__]
PREFERENCE = Base.metadata.tables[ContactPreferenceRow.__tablename__]
DISPUTE = Base.metadata.tables[DisputeRow.__tablename__]
DEFERRED = Base.metadata.tables[DeferredContactRow.__tablename__]
CASE = Base.metadata.tables[CaseRow.__tablename__]
STATE = Base.metadata.tables[LoanStateRow.__tablename__]
BORROWER = Base.metadata.tables[BorrowerRefRow.__tablename__]
LOAN = Base.metadata.tables[LoanRefRow.__tablename__]
INVALID = Base.metadata.tables[InvalidNumberRow.__tablename__]
PROMISE = Base.metadata.tables[PromiseRow.__tablename__]


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    at: datetime
    channel: str
    loan_id: str
    status: str
    recipient: str
    to: str | None
    borrower_requested: bool
    direction: str = "outbound"


@dataclass(frozen=True, slots=True)
class Preferences:
    stopped_channels: tuple[str, ...]
    preferred_from: time | None
    preferred_to: time | None
    consent: bool
    updated_at: datetime | None


async def attempts_since(
    session: AsyncSession, borrower_id: str, since: datetime
) -> list[AttemptRecord]:
    """The borrower's contacts (every loan) since ``since``, oldest first."""
    query = (
        sa.select(ATTEMPT)
        .where(ATTEMPT.c.borrower_id == borrower_id, ATTEMPT.c.at >= since)
        .order_by(ATTEMPT.c.at)
    )
    rows = (await session.execute(query)).mappings()
    return [
        AttemptRecord(
            r["at"],
            r["channel"],
            r["loan_id"],
            r["status"],
            r["recipient"],
            r["to"],
            r["borrower_requested"],
        )
        for r in rows
    ]


async def preferences(session: AsyncSession, borrower_id: str) -> Preferences | None:
    query = sa.select(PREFERENCE).where(PREFERENCE.c.borrower_id == borrower_id)
    r = (await session.execute(query)).mappings().one_or_none()
    if r is None:
        return None
    return Preferences(
        tuple(r["stopped_channels"]),
        r["preferred_from"],
        r["preferred_to"],
        r["consent"],
        r["updated_at"],
    )


async def save_preferences(session: AsyncSession, borrower_id: str, p: Preferences) -> None:
    values = {
        "stopped_channels": list(p.stopped_channels),
        "preferred_from": p.preferred_from,
        "preferred_to": p.preferred_to,
        "consent": p.consent,
        "updated_at": p.updated_at,
    }
    stmt = insert(PREFERENCE).values(borrower_id=borrower_id, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["borrower_id"], set_=values))


async def open_disputes(session: AsyncSession, borrower_id: str) -> frozenset[str]:
    query = sa.select(DISPUTE.c.loan_id).where(
        DISPUTE.c.borrower_id == borrower_id, DISPUTE.c.status == "open"
    )
    return frozenset((await session.execute(query)).scalars())


async def case_is_open(session: AsyncSession, case_id: uuid.UUID) -> bool:
    status = await session.scalar(sa.select(CASE.c.status).where(CASE.c.case_id == case_id))
    return status == "open"


async def insert_dispute(session: AsyncSession, values: Mapping[str, Any]) -> None:
    await session.execute(sa.insert(DISPUTE).values(dict(values)))


async def dispute(
    session: AsyncSession, dispute_id: uuid.UUID, *, lock: bool = False
) -> RowMapping | None:
    query = sa.select(DISPUTE).where(DISPUTE.c.dispute_id == dispute_id)
    return (
        (await session.execute(query.with_for_update() if lock else query)).mappings().one_or_none()
    )


async def resolve_dispute(
    session: AsyncSession, dispute_id: uuid.UUID, resolution: str, at: datetime
) -> None:
    await session.execute(
        sa.update(DISPUTE)
        .where(DISPUTE.c.dispute_id == dispute_id)
        .values(status="resolved", resolution=resolution, resolved_at=at)
    )


async def insert_decisions(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    await session.execute(sa.insert(DECISION), rows)


async def reserve(session: AsyncSession, values: Mapping[str, Any]) -> bool:
    """Reserve the contact's slot in the ledger; False when this request holds one already."""
    stmt = (
        insert(ATTEMPT).values(dict(values)).on_conflict_do_nothing(index_elements=["request_id"])
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def reserve_many(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> set[uuid.UUID]:
    """Reserve the slots (rows of one shape) in one statement; the request ids that were new."""
    if not rows:
        return set()
    stmt = (
        insert(ATTEMPT)
        .values([dict(r) for r in rows])
        .on_conflict_do_nothing(index_elements=["request_id"])
        .returning(ATTEMPT.c.request_id)
    )
    return set((await session.execute(stmt)).scalars())


async def set_attempt_status(
    session: AsyncSession, request_id: uuid.UUID, status: str
) -> uuid.UUID | None:
    """Confirm or release a slot; the case of the decision that reserved it (None when the
    request is unknown or was not about a case)."""
    stmt = (
        sa.update(ATTEMPT)
        .where(ATTEMPT.c.request_id == request_id)
        .values(status=status)
        .returning(ATTEMPT.c.decision_id)
    )
    decision_id = (await session.execute(stmt)).scalar_one_or_none()
    if decision_id is None:
        return None
    case_id: uuid.UUID | None = await session.scalar(
        sa.select(DECISION.c.case_id).where(DECISION.c.decision_id == decision_id)
    )
    return case_id


async def defer(session: AsyncSession, due: list[tuple[uuid.UUID, datetime]]) -> None:
    rows = [{"decision_id": d, "due_at": at} for d, at in due]
    await session.execute(sa.insert(DEFERRED), rows)


async def claim_due_deferrals(session: AsyncSession, now: datetime, limit: int) -> list[RowMapping]:
    """Deferred decisions due by ``now``, taken off the queue (skipping those another
    worker holds)."""
    due = (
        sa.select(DEFERRED.c.decision_id)
        .where(DEFERRED.c.due_at <= now)
        .order_by(DEFERRED.c.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.execute(due)).scalars())
    if not ids:
        return []
    await session.execute(sa.delete(DEFERRED).where(DEFERRED.c.decision_id.in_(ids)))
    rows = await session.execute(sa.select(DECISION).where(DECISION.c.decision_id.in_(ids)))
    return list(rows.mappings())


@dataclass(frozen=True, slots=True)
class DecisionFilter:
    loan_id: str | None = None
    borrower_id: str | None = None
    case_id: uuid.UUID | None = None
    outcome: str | None = None


async def list_decisions(
    session: AsyncSession,
    where: DecisionFilter,
    *,
    visible: Principal | None = None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[RowMapping]:
    """Newest first, keyset-paginated on (decided_at, decision_id); only decisions about cases
    ``visible`` sees (pre-due decisions, of no case, only for portfolio roles)."""
    query = sa.select(DECISION)
    if visible is not None:
        query = query.where(access_sql.case_id_visible(visible, DECISION.c.case_id))
    for name in ("loan_id", "borrower_id", "case_id", "outcome"):
        value = getattr(where, name)
        if value is not None:
            query = query.where(DECISION.c[name] == value)
    key = sa.tuple_(DECISION.c.decided_at, sa.cast(DECISION.c.decision_id, sa.Text))
    if after is not None:
        query = query.where(key < sa.tuple_(sa.literal(after[0]), sa.literal(after[1])))
    query = query.order_by(
        DECISION.c.decided_at.desc(), sa.cast(DECISION.c.decision_id, sa.Text).desc()
    )
    return list((await session.execute(query.limit(limit))).mappings())


async def case_of_request(session: AsyncSession, request_id: uuid.UUID) -> uuid.UUID | None:
    """The case of the allowed decision that made this request."""
    query = sa.select(DECISION.c.case_id).where(DECISION.c.request_id == request_id).limit(1)
    case_id: uuid.UUID | None = await session.scalar(query)
    return case_id


@dataclass(frozen=True, slots=True)
class Ledger:
    """What the guard reads of one borrower: contacts since a moment, preferences, disputes."""

    attempts: list[AttemptRecord]
    preferences: Preferences | None
    open_disputes: frozenset[str]
    notices: DebtNotices
    reach: Reach
    pending_promises: frozenset[str]  # loan ids


@dataclass(frozen=True, slots=True)
class Reach:
    """The borrower's numbers and those marked invalid (a contact person needs all invalid),
    and whether an attorney is among the borrower's contacts (pack us: then only them)."""

    invalid_numbers: frozenset[str]
    borrower_numbers: frozenset[str]
    attorney_known: bool = False


@dataclass(frozen=True, slots=True)
class DebtNotices:
    """What the notice rules read of one debt (Reg F validation notice, legal notice period,
    time-barred debts): its first contact, its notices, its last payment, and the day it is
    time-barred when the lender said (``loan.registered``'s ``time_barred_on``)."""

    first_contact_at: datetime | None = None
    validation_notice_sent_at: datetime | None = None
    legal_notice_sent_on: date | None = None
    last_payment_on: date | None = None
    time_barred_on: date | None = None


#: A contact that happened or is on its way: not one blocked or failed.
_MADE = ("pending", "delivered", "connected", "unanswered")


def _first(column: Any, loan_id: Any, purpose: str | None = None) -> Any:
    where = [ATTEMPT.c.loan_id == loan_id, ATTEMPT.c.status.in_(_MADE)]
    if purpose is not None:
        where.append(ATTEMPT.c.purpose == purpose)
    return sa.select(sa.func.min(column)).where(*where).scalar_subquery()


async def ledgers_of(
    session: AsyncSession, debts: Sequence[tuple[str, str]], since: datetime
) -> dict[tuple[str, str], Ledger]:
    """Each (borrower, loan)'s ledger and the debt's notices, in one round trip for all (the
    guard asks before every contact)."""
    borrowers = sa.cast([b for b, _ in debts], ARRAY(sa.Text))
    loans = sa.cast([loan for _, loan in debts], ARRAY(sa.Text))
    me = sa.func.unnest(borrowers, loans).table_valued("b", "l").render_derived(name="me")
    attempts = (
        sa.select(
            sa.func.coalesce(
                sa.func.jsonb_agg(
                    aggregate_order_by(
                        sa.func.jsonb_build_array(
                            ATTEMPT.c.at, ATTEMPT.c.channel, ATTEMPT.c.loan_id, ATTEMPT.c.status,
                            ATTEMPT.c.recipient, ATTEMPT.c.to, ATTEMPT.c.borrower_requested,
                            ATTEMPT.c.direction,
                        ),
                        ATTEMPT.c.at,
                    )
                ),
                sa.text("'[]'::jsonb"),
            )
        )
        .where(ATTEMPT.c.borrower_id == me.c.b, ATTEMPT.c.at >= since)
        .scalar_subquery()
    )  # fmt: skip
    disputes = (
        sa.select(sa.func.array_agg(DISPUTE.c.loan_id))
        .where(DISPUTE.c.borrower_id == me.c.b, DISPUTE.c.status == "open")
        .scalar_subquery()
    )
    paid = sa.select(STATE.c.last_payment_on).where(STATE.c.loan_id == me.c.l).scalar_subquery()
    invalid = (
        sa.select(sa.func.array_agg(INVALID.c.number))
        .where(INVALID.c.borrower_id == me.c.b)
        .scalar_subquery()
    )
    phone = sa.select(BORROWER.c.phone).where(BORROWER.c.borrower_id == me.c.b).scalar_subquery()
    attorney = (
        sa.select(BORROWER.c.contacts.contains([{"recipient": "attorney"}]))
        .where(BORROWER.c.borrower_id == me.c.b)
        .scalar_subquery()
    )
    barred = sa.select(LOAN.c.time_barred_on).where(LOAN.c.loan_id == me.c.l).scalar_subquery()
    promised = (
        sa.select(sa.func.array_agg(PROMISE.c.loan_id))
        .where(PROMISE.c.status == "pending", PROMISE.c.case_id == CASE.c.case_id,
               CASE.c.borrower_id == me.c.b)
        .scalar_subquery()
    )  # fmt: skip
    query = sa.select(
        me.c.b, me.c.l, attempts, disputes, PREFERENCE.c.stopped_channels,
        PREFERENCE.c.preferred_from, PREFERENCE.c.preferred_to, PREFERENCE.c.consent,
        PREFERENCE.c.updated_at, _first(ATTEMPT.c.at, me.c.l),
        _first(ATTEMPT.c.at, me.c.l, "validation_notice"),
        _first(ATTEMPT.c.business_date, me.c.l, "legal_notice"), paid, invalid, phone, promised,
        barred, attorney,
    ).select_from(me.outerjoin(PREFERENCE, PREFERENCE.c.borrower_id == me.c.b))  # fmt: skip
    return {(r[0], r[1]): _ledger(r[2:]) for r in await session.execute(query)}


def _ledger(row: Sequence[Any]) -> Ledger:
    made = [
        AttemptRecord(datetime.fromisoformat(a[0]), a[1], a[2], a[3], a[4], a[5], a[6], a[7])
        for a in row[0]
    ]
    prefs = None
    if row[2] is not None:
        prefs = Preferences(tuple(row[2]), row[3], row[4], row[5], row[6])
    notices = DebtNotices(row[7], row[8], row[9], row[10], row[14])
    reach = Reach(frozenset(row[11] or ()), frozenset({row[12]} if row[12] else ()), bool(row[15]))
    return Ledger(made, prefs, frozenset(row[1] or ()), notices, reach, frozenset(row[13] or ()))


async def ledger_of(
    session: AsyncSession, borrower_id: str, loan_id: str, since: datetime
) -> Ledger:
    """The borrower's ledger and the debt's notices."""
    return (await ledgers_of(session, [(borrower_id, loan_id)], since))[(borrower_id, loan_id)]


async def request_of(
    session: AsyncSession, decision_id: uuid.UUID, case_id: uuid.UUID
) -> uuid.UUID | None:
    """The request an allowed decision about this case made; None otherwise."""
    query = sa.select(DECISION.c.request_id).where(
        DECISION.c.decision_id == decision_id,
        DECISION.c.case_id == case_id,
        DECISION.c.outcome == "allowed",
    )
    request_id: uuid.UUID | None = await session.scalar(query)
    return request_id
