"""SQL of legal files (one per case transferred to legal)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters.tables import Base, LegalFileRow

LEGAL = Base.metadata.tables[LegalFileRow.__tablename__]


@dataclass(frozen=True, slots=True)
class LegalFile:
    legal_file_id: uuid.UUID
    case_id: uuid.UUID
    loan_id: str
    borrower_id: str
    status: str
    notice_sent_on: date
    escalated_on: date
    court: str | None
    court_case_number: str | None
    judgment_on: date | None
    judgment_amount: Decimal | None
    judgment_outcome: str | None
    dishonest_debtor: bool
    documents: list[dict[str, object]]
    escalated_by: str | None
    updated_at: datetime


def _file(row: RowMapping) -> LegalFile:
    return LegalFile(**{k: row[k] for k in LegalFile.__dataclass_fields__})


async def insert(session: AsyncSession, values: Mapping[str, object]) -> None:
    await session.execute(sa.insert(LEGAL).values(**values))


async def get(
    session: AsyncSession, legal_file_id: uuid.UUID, *, lock: bool = False
) -> LegalFile | None:
    query = sa.select(LEGAL).where(LEGAL.c.legal_file_id == legal_file_id)
    row = (await session.execute(query.with_for_update() if lock else query)).mappings()
    found = row.one_or_none()
    return _file(found) if found else None


async def of_case(session: AsyncSession, case_id: uuid.UUID) -> LegalFile | None:
    query = sa.select(LEGAL).where(LEGAL.c.case_id == case_id)
    found = (await session.execute(query)).mappings().one_or_none()
    return _file(found) if found else None


async def borrower_flagged(session: AsyncSession, borrower_id: str) -> bool:
    """Whether a judgment on any of the borrower's files named them a dishonest debtor."""
    query = sa.select(
        sa.exists().where(LEGAL.c.borrower_id == borrower_id, LEGAL.c.dishonest_debtor)
    )
    return bool((await session.execute(query)).scalar())


async def update(session: AsyncSession, legal_file_id: uuid.UUID, **values: object) -> None:
    query = sa.update(LEGAL).where(LEGAL.c.legal_file_id == legal_file_id).values(**values)
    await session.execute(query)


async def add_document(
    session: AsyncSession, legal_file_id: uuid.UUID, document: dict[str, object], at: datetime
) -> None:
    """Append one document to the file's list (one statement: concurrent additions both stay)."""
    appended = LEGAL.c.documents.op("||")(
        sa.func.jsonb_build_array(sa.cast(document, LEGAL.c.documents.type))
    )
    query = (
        sa.update(LEGAL)
        .where(LEGAL.c.legal_file_id == legal_file_id)
        .values(documents=appended, updated_at=at)
    )
    await session.execute(query)
