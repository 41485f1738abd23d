"""SQL of the agency whitelist and of placements."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import RowMapping
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.tables import AgencyPlacementRow, AgencyRow, Base

AGENCY = Base.metadata.tables[AgencyRow.__tablename__]
PLACEMENT = Base.metadata.tables[AgencyPlacementRow.__tablename__]


@dataclass(frozen=True, slots=True)
class Agency:
    agency_id: str
    name: str
    contact_line: str
    active: bool
    updated_by: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Placement:
    placement_id: uuid.UUID
    case_id: uuid.UUID
    agency_id: str
    status: str
    notice_request_id: uuid.UUID
    requested_on: date
    placed_on: date | None
    recalled_on: date | None
    recall_reason: str | None
    requested_by: str | None
    created_at: datetime


def _agency(row: RowMapping) -> Agency:
    return Agency(**{k: row[k] for k in Agency.__dataclass_fields__})


def _placement(row: RowMapping) -> Placement:
    return Placement(**{k: row[k] for k in Placement.__dataclass_fields__})


async def upsert_agency(session: AsyncSession, values: Mapping[str, object]) -> None:
    query = insert(AGENCY).values(**values)
    await session.execute(
        query.on_conflict_do_update(
            index_elements=[AGENCY.c.agency_id],
            set_={k: query.excluded[k] for k in values if k != "agency_id"},
        )
    )


async def agencies(session: AsyncSession) -> list[Agency]:
    rows = await session.execute(sa.select(AGENCY).order_by(AGENCY.c.agency_id))
    return [_agency(r) for r in rows.mappings()]


async def agency(session: AsyncSession, agency_id: str) -> Agency | None:
    query = sa.select(AGENCY).where(AGENCY.c.agency_id == agency_id)
    found = (await session.execute(query)).mappings().one_or_none()
    return _agency(found) if found else None


async def insert_placement(session: AsyncSession, values: Mapping[str, object]) -> bool:
    """False when the case already has a live placement (the partial unique index says so)."""
    query = insert(PLACEMENT).values(**values).on_conflict_do_nothing()
    return bool((await session.execute(query)).rowcount)  # type: ignore[attr-defined]


async def placement(
    session: AsyncSession, placement_id: uuid.UUID, *, lock: bool = False
) -> Placement | None:
    query = sa.select(PLACEMENT).where(PLACEMENT.c.placement_id == placement_id)
    found = (await session.execute(query.with_for_update() if lock else query)).mappings()
    row = found.one_or_none()
    return _placement(row) if row else None


async def placements_of(session: AsyncSession, case_id: uuid.UUID) -> list[Placement]:
    query = sa.select(PLACEMENT).where(PLACEMENT.c.case_id == case_id).order_by(PLACEMENT.c.seq)
    return [_placement(r) for r in (await session.execute(query)).mappings()]


async def update_placement(
    session: AsyncSession, placement_id: uuid.UUID, **values: object
) -> None:
    query = sa.update(PLACEMENT).where(PLACEMENT.c.placement_id == placement_id).values(**values)
    await session.execute(query)
