"""Users and API keys in the gateway's database: every query of the gateway is here."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import RowMapping
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.adapters.tables import API_KEYS, USERS


@dataclass(frozen=True)
class StoredUser:
    username: str
    password_hash: str
    roles: tuple[str, ...]
    active: bool


@dataclass(frozen=True)
class StoredProfile:
    """A user as the administrators' API shows it: roles and attributes, never the hash."""

    username: str
    roles: tuple[str, ...]
    active: bool
    supervisor: str | None
    skills: tuple[str, ...]
    languages: tuple[str, ...]
    capacity: int | None
    away: bool


_PROFILE = (
    USERS.c.username,
    USERS.c.roles,
    USERS.c.active,
    USERS.c.supervisor,
    USERS.c.skills,
    USERS.c.languages,
    USERS.c.capacity,
    USERS.c.away,
)


def _profile(m: RowMapping) -> StoredProfile:
    return StoredProfile(
        username=m["username"],
        roles=tuple(m["roles"]),
        active=m["active"],
        supervisor=m["supervisor"],
        skills=tuple(m["skills"]),
        languages=tuple(m["languages"]),
        capacity=m["capacity"],
        away=m["away"],
    )


async def find_profile(session: AsyncSession, username: str) -> StoredProfile | None:
    query = sa.select(*_PROFILE).where(USERS.c.username == username)
    row = (await session.execute(query)).mappings().one_or_none()
    return _profile(row) if row is not None else None


async def list_profiles(
    session: AsyncSession, *, after: str | None, limit: int
) -> list[StoredProfile]:
    """Users by name, keyset-paginated on the name."""
    query = sa.select(*_PROFILE).order_by(USERS.c.username).limit(limit)
    if after is not None:
        query = query.where(USERS.c.username > after)
    return [_profile(r) for r in (await session.execute(query)).mappings()]


#: A team is made of collectors (BRIEF decision 12): other users naming a supervisor are not.
_COLLECTOR = sa.literal("collector") == sa.any_(USERS.c.roles)


async def team_of(session: AsyncSession, supervisor: str) -> list[str]:
    """The active collectors whose supervisor is ``supervisor``."""
    query = sa.select(USERS.c.username).where(
        USERS.c.supervisor == supervisor, USERS.c.active.is_(True), _COLLECTOR
    )
    return list((await session.execute(query)).scalars())


async def teams_of(session: AsyncSession, supervisors: list[str]) -> dict[str, list[str]]:
    """The teams of several supervisors at once."""
    query = sa.select(USERS.c.supervisor, USERS.c.username).where(
        USERS.c.supervisor.in_(supervisors), USERS.c.active.is_(True), _COLLECTOR
    )
    teams: dict[str, list[str]] = {}
    for lead, member in (await session.execute(query)).all():
        teams.setdefault(lead, []).append(member)
    return teams


async def update_profile(session: AsyncSession, username: str, values: dict[str, object]) -> bool:
    """Change the given columns of a user; False when there is no such user."""
    updated = await session.execute(
        sa.update(USERS)
        .where(USERS.c.username == username)
        .values(**values)
        .returning(USERS.c.username)
    )
    return updated.scalar_one_or_none() is not None


@dataclass(frozen=True)
class StoredApiKey:
    name: str
    roles: tuple[str, ...]
    active: bool


async def find_user(session: AsyncSession, username: str) -> StoredUser | None:
    query = sa.select(USERS.c.username, USERS.c.password_hash, USERS.c.roles, USERS.c.active).where(
        USERS.c.username == username
    )
    row = (await session.execute(query)).one_or_none()
    if row is None:
        return None
    return StoredUser(row.username, row.password_hash, tuple(row.roles), row.active)


async def insert_user(
    session: AsyncSession,
    *,
    username: str,
    password_hash: str,
    roles: list[str],
    attributes: dict[str, object] | None = None,
) -> bool:
    """Add a user (with ``attributes``: supervisor, skills ...); False when the name is taken."""
    values = {"username": username, "password_hash": password_hash, "roles": roles}
    inserted = await session.execute(
        insert(USERS)
        .values(**values, active=True, **(attributes or {}))
        .on_conflict_do_nothing(index_elements=["username"])
        .returning(USERS.c.username)
    )
    return inserted.scalar_one_or_none() is not None


async def set_password(session: AsyncSession, *, username: str, password_hash: str) -> None:
    await session.execute(
        sa.update(USERS).where(USERS.c.username == username).values(password_hash=password_hash)
    )


async def find_api_key(session: AsyncSession, key_hash: str) -> StoredApiKey | None:
    query = sa.select(API_KEYS.c.name, API_KEYS.c.roles, API_KEYS.c.active).where(
        API_KEYS.c.key_hash == key_hash
    )
    row = (await session.execute(query)).one_or_none()
    if row is None:
        return None
    return StoredApiKey(row.name, tuple(row.roles), row.active)


async def deactivate_api_key(session: AsyncSession, name: str) -> bool:
    """Mark the key revoked (its row stays, for the audit trail); False when there is none."""
    done = await session.execute(
        sa.update(API_KEYS).where(API_KEYS.c.name == name).values(active=False)
        .returning(API_KEYS.c.name)
    )  # fmt: skip
    return done.one_or_none() is not None


async def insert_api_key(
    session: AsyncSession,
    *,
    name: str,
    key_hash: str,
    prefix: str,
    roles: list[str],
    created_by: str,
) -> bool:
    """Add an API key; False when the name is taken."""
    inserted = await session.execute(
        insert(API_KEYS)
        .values(
            name=name,
            key_hash=key_hash,
            prefix=prefix,
            roles=roles,
            active=True,
            created_by=created_by,
        )
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(API_KEYS.c.name)
    )
    return inserted.scalar_one_or_none() is not None
