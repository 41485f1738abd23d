"""Use cases of collections' versioned documents: strategies and compliance packs.

Every upload is validated (each mistake with its path) and stored as a new, inactive version;
nothing is ever edited. Activating a strategy version gives it its products (new cases of those
products follow it, open cases keep theirs); activating a pack version makes every later
decision use it, open cases included, and tells notify (``collections.pack.activated``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import documents_sql as sql
from collections_service.adapters.documents_sql import JsonObject, StoredVersion
from collections_service.domain.strategy_document import parse_strategy
from collections_service.service_layer import effects
from shared.compliance.parse import parse_pack
from shared.events import PackActivated
from shared.problems import NotFound, Problem


@dataclass(frozen=True, slots=True)
class Version:
    key: str
    version: int
    active: bool
    created_at: datetime
    document: JsonObject


def _invalid(what: str, errors: list[dict[str, str]]) -> Problem:
    return Problem(
        422, f"Invalid {what}", f"{len(errors)} mistake(s); nothing was stored", errors=errors
    )


def _version(v: StoredVersion) -> Version:
    return Version(v.key, v.version, v.active, v.created_at, v.document)


async def upload_strategy(
    session: AsyncSession, strategy_id: str, document: Mapping[str, object]
) -> Version:
    parsed = parse_strategy(document)
    if isinstance(parsed, list):
        raise _invalid("strategy", [e.as_dict() for e in parsed])
    version = await sql.add_strategy_version(session, strategy_id, dict(document))
    return await strategy_version(session, strategy_id, version)


async def strategies(session: AsyncSession, strategy_id: str | None = None) -> list[Version]:
    return [_version(v) for v in await sql.strategy_versions(session, strategy_id)]


async def strategy_version(session: AsyncSession, strategy_id: str, version: int) -> Version:
    found = [v for v in await strategies(session, strategy_id) if v.version == version]
    if not found:
        raise NotFound("strategy version", f"{strategy_id} v{version}")
    return found[0]


async def activate_strategy(session: AsyncSession, strategy_id: str, version: int) -> Version:
    chosen = await strategy_version(session, strategy_id, version)
    products = chosen.document.get("products")
    await sql.activate_strategy(session, strategy_id, version, [str(p) for p in products or []])  # type: ignore[attr-defined]
    return await strategy_version(session, strategy_id, version)


async def upload_pack(session: AsyncSession, pack: str, document: Mapping[str, object]) -> Version:
    parsed = parse_pack(document)
    if isinstance(parsed, list):
        raise _invalid("compliance pack", [e.as_dict() for e in parsed])
    if document.get("pack") != pack:
        raise _invalid(
            "compliance pack", [{"field": "pack", "message": f"must be {pack!r}, as in the path"}]
        )
    version = await sql.add_pack_version(session, pack, dict(document))
    return await pack_version(session, pack, version)


async def packs(session: AsyncSession, pack: str | None = None) -> list[Version]:
    return [_version(v) for v in await sql.pack_versions(session, pack)]


async def pack_version(session: AsyncSession, pack: str, version: int) -> Version:
    found = [v for v in await packs(session, pack) if v.version == version]
    if not found:
        raise NotFound("compliance pack version", f"{pack} v{version}")
    return found[0]


async def active_pack(session: AsyncSession, pack: str) -> Version:
    stored = await sql.active_pack(session, pack)
    if stored is None:
        raise NotFound("compliance pack", pack)
    return _version(stored)


async def activate_pack(session: AsyncSession, pack: str, version: int, now: datetime) -> Version:
    await pack_version(session, pack, version)
    await sql.activate_pack(session, pack, version)
    await effects.announce(session, PackActivated(pack=pack, version=version), subject=pack, at=now)
    return await pack_version(session, pack, version)
