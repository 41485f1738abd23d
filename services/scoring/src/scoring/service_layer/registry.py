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

from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters import models_sql
from scoring.adapters.models_sql import AuditEntry as AuditEntry  # the routes' views
from scoring.adapters.models_sql import ModelSummary as ModelSummary
from scoring.adapters.models_sql import StoredModel as StoredModel
from scoring.domain.artifacts import check_features, load_model
from scoring.domain.drift import check_reference
from scoring.domain.features import BEHAVIOUR_FEATURES
from scoring.domain.model import ServedModel
from scoring.service_layer import SOURCE
from shared.events import ModelPromoted, make_event
from shared.messaging.outbox import enqueue
from shared.problems import Conflict, NotFound

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
    generation = await models_sql.generation(session)
    key = str(session.get_bind().engine.url)
    cached = _cache.get(key)
    if cached is not None and cached.generation == generation:
        return cached
    rows = await models_sql.live_documents(session)
    champion = next((load_model(doc) for status, doc in rows if status == "champion"), None)
    challengers = tuple(load_model(doc) for status, doc in rows if status == "challenger")
    _cache[key] = live = LiveModels(generation, champion, challengers)
    return live


@dataclass(frozen=True)
class Registered:
    model: StoredModel
    created: bool


async def register(
    session: AsyncSession,
    # The uploaded JSON documents, free-form until load_model and check_reference read them.
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
        if stored.document != dict(document):
            raise Conflict(f"model version {model.version} exists with another document")
        return Registered(stored, created=False)
    await models_sql.insert_model(
        session,
        version=model.version,
        kind=model.kind,
        fingerprint=str(report.get("fingerprint", "")),
        features=[f.name for f in model.features],
        documents={
            "document": dict(document),
            "report": dict(report),
            "reference": dict(reference),
        },
    )
    await models_sql.audit(session, "registered", model.version, actor=actor)
    found = await get_model(session, model.version)
    assert found is not None
    return Registered(found, created=True)


async def promote(
    session: AsyncSession, version: str, *, actor: str, reason: str | None
) -> StoredModel:
    """Make ``version`` the champion; the champion before it retires."""
    await models_sql.lock_registry(session)
    target = await _existing(session, version)
    if target.status == "champion":
        raise Conflict(f"model {version} is already the champion")
    previous = await champion_version(session)
    if previous is not None:
        await models_sql.set_status(session, previous, "retired")
    await models_sql.set_status(session, version, "champion")
    await models_sql.audit(
        session, "promoted", version, actor=actor, previous=previous, reason=reason
    )
    await _announce(session, version, previous, "promoted", actor)
    return await _existing(session, version)


async def rollback(session: AsyncSession, *, actor: str, reason: str | None) -> StoredModel:
    """Bring back the champion the last promotion replaced; the current one retires."""
    await models_sql.lock_registry(session)
    current = await champion_version(session)
    back = None if current is None else await models_sql.champion_replaced_by(session, current)
    if current is None or back is None:
        raise Conflict("there is no previous champion to roll back to")
    await models_sql.set_status(session, current, "retired")
    await models_sql.set_status(session, back, "champion")
    await models_sql.audit(
        session, "rolled_back", back, actor=actor, previous=current, reason=reason
    )
    await _announce(session, back, current, "rolled_back", actor)
    return await _existing(session, back)


async def retire(
    session: AsyncSession, version: str, *, actor: str, reason: str | None
) -> StoredModel:
    """Stop a challenger's shadow scoring (a champion is replaced by promotion, not retired)."""
    await models_sql.lock_registry(session)
    model = await _existing(session, version)
    if model.status == "champion":
        raise Conflict(f"model {version} is the champion: promote another model instead")
    if model.status != "retired":
        await models_sql.set_status(session, version, "retired")
        await models_sql.audit(session, "retired", version, actor=actor, reason=reason)
    return await _existing(session, version)


async def champion_version(session: AsyncSession) -> str | None:
    return await models_sql.champion_version(session)


async def get_model(session: AsyncSession, version: str) -> StoredModel | None:
    return await models_sql.get_model(session, version)


async def list_models(session: AsyncSession) -> list[ModelSummary]:
    return await models_sql.list_models(session)


async def audit_trail(session: AsyncSession, limit: int = 100) -> list[AuditEntry]:
    return await models_sql.audit_trail(session, limit)


async def _existing(session: AsyncSession, version: str) -> StoredModel:
    model = await get_model(session, version)
    if model is None:
        raise NotFound("model", version)
    return model


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
