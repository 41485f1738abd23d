"""Account administration: users with passwords, API keys for machine clients."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.adapters import repository
from gateway.adapters.passwords import hash_password
from gateway.adapters.repository import StoredProfile
from gateway.domain.scopes import Role
from gateway.service_layer.auth import hash_api_key
from shared.db import Database
from shared.problems import Conflict, NotFound, Problem

API_KEY_PREFIX = "plk_"


@dataclass(frozen=True)
class NewApiKey:
    name: str
    key: str
    prefix: str
    roles: tuple[Role, ...]


@dataclass(frozen=True)
class User:
    """A user's account as administrators see it, with the team they lead."""

    profile: StoredProfile
    team: tuple[str, ...]


def _invalid(field: str, message: str) -> Problem:
    errors = [{"field": field, "message": message}]
    return Problem(422, "Invalid request", f"{field}: {message}", errors=errors)


def _supervisor(values: dict[str, object]) -> str | None:
    named = values.get("supervisor")
    return named if isinstance(named, str) else None


async def _check_supervisor(session: AsyncSession, username: str, supervisor: str | None) -> None:
    """A team lead is another user, holding role supervisor."""
    if supervisor is None:
        return
    if supervisor == username:
        raise _invalid("supervisor", "a user cannot be their own supervisor")
    lead = await repository.find_profile(session, supervisor)
    if lead is None or Role.SUPERVISOR.value not in lead.roles:
        raise _invalid("supervisor", f"{supervisor!r} is not a user with role supervisor")


async def create_user(
    db: Database,
    *,
    username: str,
    password: str,
    roles: frozenset[Role],
    attributes: dict[str, object] | None = None,
) -> User:
    """Add a user with an Argon2id password hash; 409 when the username is taken."""
    password_hash = await hash_password(password)
    async with db.unit_of_work() as session:
        await _check_supervisor(session, username, _supervisor(attributes or {}))
        added = await repository.insert_user(
            session,
            username=username,
            password_hash=password_hash,
            roles=sorted(roles),
            attributes=attributes,
        )
    if not added:
        raise Conflict(f"user {username!r} exists", username=username)
    return await get_user(db, username)


async def get_user(db: Database, username: str) -> User:
    async with db.unit_of_work() as session:
        found = await repository.find_profile(session, username)
        team = await repository.team_of(session, username)
    if found is None:
        raise NotFound("user", username)
    return User(found, tuple(sorted(team)))


async def list_users(db: Database, *, after: str | None, limit: int) -> list[User]:
    """Users by name; each with the team they lead (one query per page for the teams)."""
    async with db.unit_of_work() as session:
        found = await repository.list_profiles(session, after=after, limit=limit)
        teams = await repository.teams_of(session, [u.username for u in found])
    return [User(u, tuple(sorted(teams.get(u.username, [])))) for u in found]


async def update_user(db: Database, username: str, changes: dict[str, object]) -> User:
    """Change a user's roles, state or attributes; 404 for no such user, nothing changed on 422."""
    async with db.unit_of_work() as session:
        if "supervisor" in changes:
            await _check_supervisor(session, username, _supervisor(changes))
        # No change is a read: an empty UPDATE is not SQL, and get_user answers 404 alike.
        if changes and not await repository.update_profile(session, username, changes):
            raise NotFound("user", username)
    return await get_user(db, username)


async def create_api_key(
    db: Database, *, name: str, roles: frozenset[Role], created_by: str
) -> NewApiKey:
    """Mint a key, store only its hash, and return the key (shown this once)."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    async with db.unit_of_work() as session:
        added = await repository.insert_api_key(
            session,
            name=name,
            key_hash=hash_api_key(key),
            prefix=key[:12],
            roles=sorted(roles),
            created_by=created_by,
        )
    if not added:
        raise Conflict(f"API key {name!r} exists", name=name)
    return NewApiKey(name=name, key=key, prefix=key[:12], roles=tuple(sorted(roles)))


async def revoke_api_key(db: Database, name: str) -> None:
    """Revoke a key for good (idempotent); :class:`NotFound` when no key has that name."""
    async with db.unit_of_work() as session:
        if not await repository.deactivate_api_key(session, name):
            raise NotFound("API key", name)
