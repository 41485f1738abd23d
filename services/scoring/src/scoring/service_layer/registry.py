"""The model registry: versions, status, audited promotion and rollback, and the live models.

A model is registered as a ``challenger`` (it scores in shadow), becomes ``champion`` by
promotion (the previous champion is ``retired``), and a rollback brings the previous champion
back. Every change is a row of ``model_event``; its id is the registry's generation, which each
scoring transaction compares with its cached models, so a promotion takes effect on the next
event or batch without a restart, and no event is scored by a half-changed registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters.tables import Base, ModelEventRow, ModelRow
from scoring.domain.artifacts import check_features, load_model
from scoring.domain.drift import check_reference
from scoring.domain.features import BEHAVIOUR_FEATURES
from scoring.domain.model import ServedModel
from scoring.service_layer import SOURCE
from shared.events import ModelPromoted, make_event
from shared.messaging.outbox import enqueue
from shared.problems import Conflict, NotFound

MODEL = Base.metadata.tables[ModelRow.__tablename__]
MODEL_EVENT = Base.metadata.tables[ModelEventRow.__tablename__]
LIVE_FEATURES = tuple(f.name for f in BEHAVIOUR_FEATURES)


@dataclass(frozen=True)
class LiveModels:
    generation: int
    champion: ServedModel | None
    challengers: tuple[ServedModel, ...]

    @property
    def all(self) -> tuple[ServedModel, ...]:
        return ((self.champion,) if self.champion else ()) + self.challengers


_cache: dict[str, LiveModels] = {}  # by database: one process may serve several in tests


async def live_models(session: AsyncSession) -> LiveModels:
    """The champion and challengers as of this transaction (reloaded when the registry moved)."""
    generation = int(
        await session.scalar(sa.select(sa.func.coalesce(sa.func.max(MODEL_EVENT.c.id), 0))) or 0
    )
    key = str(session.get_bind().engine.url)
    cached = _cache.get(key)
    if cached is not None and cached.generation == generation:
        return cached
    rows = (
        await session.execute(
            sa.select(MODEL.c.status, MODEL.c.document)
            .where(MODEL.c.status.in_(["champion", "challenger"]))
            .order_by(MODEL.c.registered_at, MODEL.c.version)
        )
    ).all()
    champion = next((load_model(r.document) for r in rows if r.status == "champion"), None)
    challengers = tuple(load_model(r.document) for r in rows if r.status == "challenger")
    _cache[key] = live = LiveModels(generation, champion, challengers)
    return live


@dataclass(frozen=True)
class Registered:
    model: dict[str, Any]
    created: bool


async def register(
    session: AsyncSession,
    document: Mapping[str, Any],
    report: Mapping[str, Any],
    reference: Mapping[str, Any],
    *,
    actor: str,
) -> Registered:
    """Add a challenger; the same document again is a no-op, another under its version a 409."""
    model = load_model(document)
    check_features(model, LIVE_FEATURES)
    check_reference(reference, model)
    stored = await get_model(session, model.version)
    if stored is not None:
        if stored["document"] != dict(document):
            raise Conflict(f"model version {model.version} exists with another document")
        return Registered(stored, created=False)
    await session.execute(
        insert(MODEL).values(
            version=model.version,
            kind=model.kind,
            status="challenger",
            fingerprint=str(report.get("fingerprint", "")),
            features=[f.name for f in model.features],
            document=dict(document),
            report=dict(report),
            reference=dict(reference),
        )
    )
    await _audit(session, "registered", model.version, actor=actor)
    found = await get_model(session, model.version)
    assert found is not None
    return Registered(found, created=True)


async def promote(
    session: AsyncSession, version: str, *, actor: str, reason: str | None
) -> dict[str, Any]:
    """Make ``version`` the champion; the champion before it retires."""
    await _lock(session)
    target = await _existing(session, version)
    if target["status"] == "champion":
        raise Conflict(f"model {version} is already the champion")
    previous = await champion_version(session)
    if previous is not None:
        await _set_status(session, previous, "retired")
    await _set_status(session, version, "champion")
    await _audit(session, "promoted", version, actor=actor, previous=previous, reason=reason)
    await _announce(session, version, previous, "promoted", actor)
    return await _existing(session, version)


async def rollback(session: AsyncSession, *, actor: str, reason: str | None) -> dict[str, Any]:
    """Bring back the champion the last promotion replaced; the current one retires."""
    await _lock(session)
    current = await champion_version(session)
    last = (
        await session.execute(
            sa.select(MODEL_EVENT.c.version, MODEL_EVENT.c.previous_champion)
            .where(MODEL_EVENT.c.action.in_(["promoted", "rolled_back"]))
            .where(MODEL_EVENT.c.version == current)
            .order_by(MODEL_EVENT.c.id.desc())
            .limit(1)
        )
    ).first()
    if current is None or last is None or last.previous_champion is None:
        raise Conflict("there is no previous champion to roll back to")
    back = str(last.previous_champion)
    await _set_status(session, current, "retired")
    await _set_status(session, back, "champion")
    await _audit(session, "rolled_back", back, actor=actor, previous=current, reason=reason)
    await _announce(session, back, current, "rolled_back", actor)
    return await _existing(session, back)


async def retire(
    session: AsyncSession, version: str, *, actor: str, reason: str | None
) -> dict[str, Any]:
    """Stop a challenger's shadow scoring (a champion is replaced by promotion, not retired)."""
    await _lock(session)
    model = await _existing(session, version)
    if model["status"] == "champion":
        raise Conflict(f"model {version} is the champion: promote another model instead")
    if model["status"] != "retired":
        await _set_status(session, version, "retired")
        await _audit(session, "retired", version, actor=actor, reason=reason)
    return await _existing(session, version)


async def champion_version(session: AsyncSession) -> str | None:
    found: str | None = await session.scalar(
        sa.select(MODEL.c.version).where(MODEL.c.status == "champion")
    )
    return found


async def get_model(session: AsyncSession, version: str) -> dict[str, Any] | None:
    row = (
        (await session.execute(sa.select(MODEL).where(MODEL.c.version == version)))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def list_models(session: AsyncSession) -> list[dict[str, Any]]:
    columns = [c for c in MODEL.c if c.name not in ("document", "report", "reference")]
    rows = await session.execute(sa.select(*columns).order_by(MODEL.c.registered_at.desc()))
    return [dict(r) for r in rows.mappings()]


async def audit_trail(session: AsyncSession, limit: int = 100) -> list[dict[str, Any]]:
    rows = await session.execute(
        sa.select(MODEL_EVENT).order_by(MODEL_EVENT.c.id.desc()).limit(limit)
    )
    return [dict(r) for r in rows.mappings()]


async def _existing(session: AsyncSession, version: str) -> dict[str, Any]:
    model = await get_model(session, version)
    if model is None:
        raise NotFound("model", version)
    return model


async def _lock(session: AsyncSession) -> None:
    """One registry change at a time (two promotions at once would leave two champions)."""
    await session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('scoring.registry'))"))


async def _set_status(session: AsyncSession, version: str, status: str) -> None:
    await session.execute(sa.update(MODEL).where(MODEL.c.version == version).values(status=status))


async def _audit(
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


async def _announce(
    session: AsyncSession,
    version: str,
    previous: str | None,
    action: Literal["promoted", "rolled_back"],
    actor: str,
) -> None:
    payload = ModelPromoted(
        model_version=version,
        previous_version=previous,
        action=action,
        actor=actor,
    )
    await enqueue(session, [make_event(payload, source=SOURCE, subject=version)])
