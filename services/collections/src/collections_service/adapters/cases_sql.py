"""SQL of cases: the loan state collections follows, cases and their timelines."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import RowMapping
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.tables import (
    Base,
    BorrowerRefRow,
    CaseEventRow,
    CaseRow,
    LoanRefRow,
    LoanStateRow,
)

STATE = Base.metadata.tables[LoanStateRow.__tablename__]
CASE = Base.metadata.tables[CaseRow.__tablename__]
TIMELINE = Base.metadata.tables[CaseEventRow.__tablename__]
LOAN = Base.metadata.tables[LoanRefRow.__tablename__]
BORROWER = Base.metadata.tables[BorrowerRefRow.__tablename__]


@dataclass(frozen=True, slots=True)
class LoanState:
    loan_id: str
    bucket: str
    dpd: int
    overdue_amount: Decimal
    business_date: date | None
    tier: str | None


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A case as stored (what the API shows, less the timeline)."""

    case_id: uuid.UUID
    loan_id: str
    borrower_id: str
    status: str
    opened_on: date
    closed_on: date | None
    close_reason: str | None
    dpd: int
    bucket: str
    overdue_amount: Decimal
    tier: str | None
    quadrant: str | None
    quadrant_signals: dict[str, object]
    pack: str
    assignee: str | None
    strategy_id: str | None
    strategy_version: int | None
    segment: str | None
    variant: str | None
    segment_entered_on: date | None
    product: str


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    business_date: date
    kind: str
    detail: Mapping[str, object]


def _case_query() -> sa.Select[tuple[object, ...]]:
    columns = [
        CASE.c[f.name] for f in CaseRecord.__dataclass_fields__.values() if f.name != "product"
    ]
    return sa.select(*columns, LOAN.c.product).join(LOAN, LOAN.c.loan_id == CASE.c.loan_id)


def _case(row: RowMapping) -> CaseRecord:
    return CaseRecord(**{k: row[k] for k in CaseRecord.__dataclass_fields__})


async def lock_state(session: AsyncSession, loan_id: str) -> LoanState | None:
    """The loan's state, locked for this transaction (facts about one loan apply in turn)."""
    await session.execute(
        insert(STATE).values(loan_id=loan_id).on_conflict_do_nothing(index_elements=["loan_id"])
    )
    row = (
        (
            await session.execute(
                sa.select(STATE).where(STATE.c.loan_id == loan_id).with_for_update()
            )
        )
        .mappings()
        .one()
    )
    return LoanState(
        row["loan_id"],
        row["bucket"],
        row["dpd"],
        row["overdue_amount"],
        row["business_date"],
        row["tier"],
    )


@dataclass(frozen=True, slots=True)
class Applied:
    """A delinquency fact applied to the loan's state: the tier the state holds."""

    tier: str | None


@dataclass(frozen=True, slots=True)
class StateFact:
    """A delinquency fact about one loan, as the state keeps it."""

    loan_id: str
    bucket: str
    dpd: int
    overdue: Decimal
    on: date


async def apply_states(session: AsyncSession, facts: Sequence[StateFact]) -> dict[str, Applied]:
    """Record each fact unless its loan's state already reflects a later business date (absent
    from the answer then). One statement for all (their loans distinct), which also locks the
    loans' rows: facts about one loan apply in turn."""
    if not facts:
        return {}
    rows = [
        {"loan_id": f.loan_id, "bucket": f.bucket, "dpd": f.dpd, "overdue_amount": f.overdue,
         "business_date": f.on}
        for f in facts
    ]  # fmt: skip
    new = insert(STATE).values(rows)
    upsert = new.on_conflict_do_update(
        index_elements=["loan_id"],
        set_={k: new.excluded[k] for k in ("bucket", "dpd", "overdue_amount", "business_date")},
        where=sa.or_(
            STATE.c.business_date.is_(None), STATE.c.business_date <= new.excluded.business_date
        ),
    ).returning(STATE.c.loan_id, STATE.c.tier)
    return {loan_id: Applied(tier) for loan_id, tier in (await session.execute(upsert)).all()}


async def save_state(session: AsyncSession, loan_id: str, **values: object) -> None:
    await session.execute(sa.update(STATE).where(STATE.c.loan_id == loan_id).values(**values))


async def open_cases(session: AsyncSession, loan_ids: Sequence[str]) -> dict[str, CaseRecord]:
    """The open case of each loan that has one, locked for this transaction."""
    query = _case_query().where(CASE.c.loan_id.in_(loan_ids), CASE.c.status == "open")
    rows = (await session.execute(query.with_for_update(of=CASE))).mappings()
    return {r["loan_id"]: _case(r) for r in rows}


async def open_case(session: AsyncSession, loan_id: str) -> CaseRecord | None:
    return (await open_cases(session, [loan_id])).get(loan_id)


async def get_case(session: AsyncSession, case_id: uuid.UUID) -> CaseRecord | None:
    row = (await session.execute(_case_query().where(CASE.c.case_id == case_id))).mappings()
    found = row.one_or_none()
    return _case(found) if found else None


async def loan_refs(session: AsyncSession, loan_ids: Sequence[str]) -> dict[str, RowMapping]:
    """Each known loan's reference with its borrower (pack, product, contact data)."""
    query = (
        sa.select(
            LOAN,
            sa.func.coalesce(STATE.c.outstanding, LOAN.c.principal).label("outstanding"),
            BORROWER.c.name,
            BORROWER.c.phone,
            BORROWER.c.email,
            BORROWER.c.time_zone,
            BORROWER.c.locale,
            BORROWER.c.contacts,
        )
        .join(BORROWER, BORROWER.c.borrower_id == LOAN.c.borrower_id)
        .outerjoin(STATE, STATE.c.loan_id == LOAN.c.loan_id)
        .where(LOAN.c.loan_id.in_(loan_ids))
    )
    return {r["loan_id"]: r for r in (await session.execute(query)).mappings()}


async def loan_ref(session: AsyncSession, loan_id: str) -> RowMapping | None:
    """The loan's reference with its borrower; None if unknown."""
    return (await loan_refs(session, [loan_id])).get(loan_id)


async def insert_cases(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(sa.insert(CASE), [dict(r) for r in rows])


async def update_case(session: AsyncSession, case_id: uuid.UUID, **values: object) -> None:
    await session.execute(sa.update(CASE).where(CASE.c.case_id == case_id).values(**values))


async def update_cases(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """The same columns of several cases (each row: ``case_id`` and those columns), in one
    round trip."""
    if not rows:
        return
    columns = [k for k in rows[0] if k != "case_id"]
    stmt = (
        sa.update(CASE)
        .where(CASE.c.case_id == sa.bindparam("b_case_id"))
        .values({c: sa.bindparam(f"b_{c}") for c in columns})
    )
    conn = await session.connection()  # executemany of Core (the ORM would want a primary key)
    await conn.execute(stmt, [{f"b_{k}": v for k, v in r.items()} for r in rows])


async def add_timeline(
    session: AsyncSession, case_id: uuid.UUID, entries: Sequence[TimelineEntry]
) -> None:
    if entries:
        await session.execute(
            sa.insert(TIMELINE),
            [
                {
                    "case_id": case_id,
                    "at": e.at,
                    "business_date": e.business_date,
                    "kind": e.kind,
                    "detail": e.detail,
                }
                for e in entries
            ],
        )


async def timeline(session: AsyncSession, case_id: uuid.UUID) -> list[TimelineEntry]:
    query = sa.select(TIMELINE).where(TIMELINE.c.case_id == case_id).order_by(TIMELINE.c.id)
    rows = (await session.execute(query)).mappings()
    return [TimelineEntry(r["at"], r["business_date"], r["kind"], r["detail"]) for r in rows]


@dataclass(frozen=True, slots=True)
class CaseFilter:
    status: str | None = None
    loan_id: str | None = None
    borrower_id: str | None = None
    assignee: str | None = None
    bucket: str | None = None


async def list_cases(
    session: AsyncSession,
    where: CaseFilter,
    *,
    visible: sa.ColumnElement[bool] | None = None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[tuple[CaseRecord, datetime]]:
    """Newest first, keyset-paginated on (created_at, case_id); ``visible`` is the caller's
    access condition (``access_sql.case_visible``)."""
    query = _case_query().add_columns(CASE.c.created_at)
    if visible is not None:
        query = query.where(visible)
    for name in ("status", "loan_id", "borrower_id", "assignee", "bucket"):
        value = getattr(where, name)
        if value is not None:
            query = query.where(CASE.c[name] == value)
    if after is not None:
        query = query.where(
            sa.tuple_(CASE.c.created_at, sa.cast(CASE.c.case_id, sa.Text))
            < sa.tuple_(sa.literal(after[0]), sa.literal(after[1]))
        )
    query = query.order_by(CASE.c.created_at.desc(), sa.cast(CASE.c.case_id, sa.Text).desc())
    rows = (await session.execute(query.limit(limit))).mappings().all()
    return [(_case(r), r["created_at"]) for r in rows]


async def advance_open_cases(session: AsyncSession, business_date: date) -> None:
    """A day passed: an unpaid loan's DPD grows with the business date (monitoring announces
    only bucket moves); set-based over every open case."""
    days = sa.cast(sa.literal(business_date), sa.Date) - STATE.c.business_date
    await session.execute(
        sa.update(CASE)
        .where(
            CASE.c.status == "open",
            CASE.c.loan_id == STATE.c.loan_id,
            STATE.c.business_date < business_date,
            STATE.c.dpd > 0,
        )
        .values(dpd=STATE.c.dpd + days)
    )


@dataclass(frozen=True, slots=True)
class SegmentGroup:
    strategy_id: str
    strategy_version: int
    segment: str
    variant: str | None


async def segment_groups(session: AsyncSession) -> list[SegmentGroup]:
    """The (strategy version, segment, variant) open cases are in: the engine's work list."""
    query = (
        sa.select(CASE.c.strategy_id, CASE.c.strategy_version, CASE.c.segment, CASE.c.variant)
        .where(CASE.c.status == "open", CASE.c.segment.is_not(None))
        .distinct()
    )
    return [SegmentGroup(*row) for row in (await session.execute(query)).all()]


async def cases_entered(
    session: AsyncSession, group: SegmentGroup, entered_on: date
) -> list[CaseRecord]:
    """Open cases of ``group`` that entered their segment on ``entered_on``."""
    variant = CASE.c.variant.is_(None) if group.variant is None else CASE.c.variant == group.variant
    query = _case_query().where(
        CASE.c.status == "open",
        CASE.c.strategy_id == group.strategy_id,
        CASE.c.strategy_version == group.strategy_version,
        CASE.c.segment == group.segment,
        variant,
        CASE.c.segment_entered_on == entered_on,
    )
    return [_case(r) for r in (await session.execute(query)).mappings()]


async def outstanding(session: AsyncSession, loan_id: str) -> Decimal:
    """The loan's outstanding total as last announced, else its principal."""
    query = (
        sa.select(sa.func.coalesce(STATE.c.outstanding, LOAN.c.principal))
        .select_from(LOAN.outerjoin(STATE, STATE.c.loan_id == LOAN.c.loan_id))
        .where(LOAN.c.loan_id == loan_id)
    )
    return Decimal(await session.scalar(query) or 0)


async def borrower_known(session: AsyncSession, borrower_id: str) -> bool:
    query = sa.select(sa.literal(True)).where(BORROWER.c.borrower_id == borrower_id)
    return bool(await session.scalar(query))


async def business_date_of(session: AsyncSession, loan_id: str) -> date | None:
    """The business date of the latest fact collections applied to the loan."""
    found: date | None = await session.scalar(
        sa.select(STATE.c.business_date).where(STATE.c.loan_id == loan_id)
    )
    return found


async def open_case_ids_of(session: AsyncSession, borrower_id: str) -> list[uuid.UUID]:
    query = sa.select(CASE.c.case_id).where(
        CASE.c.borrower_id == borrower_id, CASE.c.status == "open"
    )
    return list((await session.execute(query)).scalars())


async def business_date_of_case(session: AsyncSession, case_id: uuid.UUID) -> date:
    """The business date of the latest fact applied to the case's loan (else its opening)."""
    query = (
        sa.select(sa.func.coalesce(STATE.c.business_date, CASE.c.opened_on))
        .select_from(CASE.outerjoin(STATE, STATE.c.loan_id == CASE.c.loan_id))
        .where(CASE.c.case_id == case_id)
    )
    found: date = await session.scalar(query)
    return found


async def add_timelines(
    session: AsyncSession, lines: Sequence[tuple[uuid.UUID, TimelineEntry]]
) -> None:
    """Lines of several cases in one statement, in the order given."""
    await session.execute(
        sa.insert(TIMELINE),
        [
            {"case_id": case_id, "at": e.at, "business_date": e.business_date,
             "kind": e.kind, "detail": e.detail}
            for case_id, e in lines
        ],
    )  # fmt: skip


async def note_payment(session: AsyncSession, loan_id: str, booked_on: date) -> None:
    """Keep the latest payment date (payments may arrive out of order)."""
    new = insert(STATE).values(loan_id=loan_id, last_payment_on=booked_on)
    await session.execute(
        new.on_conflict_do_update(
            index_elements=["loan_id"],
            set_={"last_payment_on": sa.func.greatest(STATE.c.last_payment_on, booked_on)},
        )
    )
