"""Account administration: users with passwords, API keys for machine clients."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from gateway.adapters import repository
from gateway.adapters.passwords import hash_password
from gateway.domain.scopes import Role
from gateway.service_layer.auth import hash_api_key
from shared.db import Database
from shared.problems import Conflict

API_KEY_PREFIX = "plk_"


@dataclass(frozen=True)
class NewApiKey:
    name: str
    key: str
    prefix: str
    roles: tuple[Role, ...]


async def create_user(
    db: Database, *, username: str, password: str, roles: frozenset[Role]
) -> None:
    """Add a user with an Argon2id password hash; 409 when the username is taken."""
    password_hash = await hash_password(password)
    async with db.unit_of_work() as session:
        added = await repository.insert_user(
            session, username=username, password_hash=password_hash, roles=sorted(roles)
        )
    if not added:
        raise Conflict(f"user {username!r} exists", username=username)


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
