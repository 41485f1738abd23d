"""SQL of the model registry: registered models, their status and the audit trail."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters.tables import Base, ModelEventRow, ModelRow
from scoring.domain.json_object import JsonObject

MODEL = Base.metadata.tables[ModelRow.__tablename__]
MODEL_EVENT = Base.metadata.tables[ModelEventRow.__tablename__]
_DOCUMENTS = ("document", "report", "reference")


@dataclass(frozen=True)
class ModelSummary:
    """A registered model without its documents."""

    version: str
    kind: str
    status: str  # challenger | champion | retired
    fingerprint: str  # of the training data
    features: list[str]
    registered_at: datetime


@dataclass(frozen=True)
class StoredModel(ModelSummary):
    """A registered model with its served document, training report and reference."""

    document: JsonObject
    report: JsonObject
    reference: JsonObject  # development-sample bin counts


@dataclass(frozen=True)
class AuditEntry:
    """One change of the registry: who registered, promoted or rolled back what, when."""

    id: int
    action: str  # registered | promoted | rolled_back | retired
    version: str
    previous_champion: str | None
    actor: str
    reason: str | None
    at: datetime


async def generation(session: AsyncSession) -> int:
    """The id of the registry's latest change (0 before any)."""
    found = await session.scalar(sa.select(sa.func.coalesce(sa.func.max(MODEL_EVENT.c.id), 0)))
    return int(found or 0)


async def live_documents(session: AsyncSession) -> list[tuple[str, JsonObject]]:
    """The champion's and challengers' (status, document), oldest registered first."""
    rows = await session.execute(
        sa.select(MODEL.c.status, MODEL.c.document)
        .where(MODEL.c.status.in_(["champion", "challenger"]))
        .order_by(MODEL.c.registered_at, MODEL.c.version)
    )
    return [(r.status, r.document) for r in rows]


async def insert_model(
    session: AsyncSession,
    *,
    version: str,
    kind: str,
    fingerprint: str,
    features: list[str],
    documents: Mapping[str, JsonObject],
) -> None:
    """A new challenger with its ``document``, ``report`` and ``reference``."""
    await session.execute(
        insert(MODEL).values(
            version=version,
            kind=kind,
            status="challenger",
            fingerprint=fingerprint,
            features=features,
            **{name: documents[name] for name in _DOCUMENTS},
        )
    )


async def get_model(session: AsyncSession, version: str) -> StoredModel | None:
    query = sa.select(MODEL).where(MODEL.c.version == version)
    row = (await session.execute(query)).mappings().first()
    return StoredModel(**row) if row else None


async def list_models(session: AsyncSession) -> list[ModelSummary]:
    columns = [c for c in MODEL.c if c.name not in _DOCUMENTS]
    rows = await session.execute(sa.select(*columns).order_by(MODEL.c.registered_at.desc()))
    return [ModelSummary(**r) for r in rows.mappings()]


async def champion_version(session: AsyncSession) -> str | None:
    found: str | None = await session.scalar(
        sa.select(MODEL.c.version).where(MODEL.c.status == "champion")
    )
    return found


async def set_status(session: AsyncSession, version: str, status: str) -> None:
    await session.execute(sa.update(MODEL).where(MODEL.c.version == version).values(status=status))


async def lock_registry(session: AsyncSession) -> None:
    """One registry change at a time (two promotions at once would leave two champions)."""
    await session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('scoring.registry'))"))


async def audit(
    session: AsyncSession,
    action: str,
    version: str,
    *,
    actor: str,
    previous: str | None = None,
    reason: str | None = None,
) -> None:
    await session.execute(
        insert(MODEL_EVENT).values(
            action=action, version=version, previous_champion=previous, actor=actor, reason=reason
        )
    )


async def champion_replaced_by(session: AsyncSession, current: str | None) -> str | None:
    """The champion that the last promotion (or rollback) to ``current`` replaced."""
    last = (
        await session.execute(
            sa.select(MODEL_EVENT.c.previous_champion)
            .where(MODEL_EVENT.c.action.in_(["promoted", "rolled_back"]))
            .where(MODEL_EVENT.c.version == current)
            .order_by(MODEL_EVENT.c.id.desc())
            .limit(1)
        )
    ).first()
    return None if last is None or last.previous_champion is None else str(last.previous_champion)


async def audit_trail(session: AsyncSession, limit: int) -> list[AuditEntry]:
    rows = await session.execute(
        sa.select(MODEL_EVENT).order_by(MODEL_EVENT.c.id.desc()).limit(limit)
    )
    return [AuditEntry(**r) for r in rows.mappings()]
