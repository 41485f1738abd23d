"""SQL of drift checks: the values a live model's open loans show now, and stored reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters.tables import Base, DriftReportRow
from scoring.domain.json_object import JsonObject
from scoring.domain.model import FloatArray

REPORT = Base.metadata.tables[DriftReportRow.__tablename__]


@dataclass(frozen=True)
class StoredDriftReport:
    """A population-stability check as stored: score PSI and CSI per characteristic."""

    id: int
    model_version: str
    as_of: date
    status: str  # stable | warn | act (the worst of all)
    result: JsonObject  # DriftReport.to_json()
    computed_at: datetime


async def latest_report(session: AsyncSession, version: str) -> StoredDriftReport | None:
    query = (
        sa.select(REPORT)
        .where(REPORT.c.model_version == version)
        .order_by(REPORT.c.id.desc())
        .limit(1)
    )
    row = (await session.execute(query)).mappings().first()
    return StoredDriftReport(**row) if row else None


async def insert_report(
    session: AsyncSession, *, model_version: str, as_of: date, status: str, result: JsonObject
) -> StoredDriftReport:
    statement = (
        insert(REPORT)
        .values(model_version=model_version, as_of=as_of, status=status, result=result)
        .returning(REPORT)
    )
    return StoredDriftReport(**(await session.execute(statement)).mappings().one())


async def scores_now(session: AsyncSession, version: str) -> FloatArray:
    """The score of each open loan ``version`` scores."""
    return await _column(session, version, "s.score::float8")


async def feature_now(session: AsyncSession, version: str, feature: str) -> FloatArray:
    """One feature's value on each open loan ``version`` scores (missing: NaN)."""
    return await _column(session, version, f"(s.features ->> '{_safe(feature)}')::float8")


async def _column(session: AsyncSession, version: str, expression: str) -> FloatArray:
    """One value per open loan scored by ``version`` (NULL becomes NaN: the missing bin)."""
    rows = await session.execute(
        sa.text(
            f"""SELECT {expression} FROM score s JOIN loan_terms t USING (loan_id)
                WHERE s.model_version = :v AND t.closed_on IS NULL"""
        ),
        {"v": version},
    )
    return np.array([np.nan if v is None else v for v in rows.scalars()], dtype=np.float64)


def _safe(name: str) -> str:
    if not name.replace("_", "").isalnum():  # feature names come from code, but be strict
        raise ValueError(f"unexpected feature name {name!r}")
    return name
