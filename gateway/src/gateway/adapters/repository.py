"""Users and API keys in the gateway's database: every query of the gateway is here."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
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
    session: AsyncSession, *, username: str, password_hash: str, roles: list[str]
) -> bool:
    """Add a user; False when the username is taken."""
    inserted = await session.execute(
        insert(USERS)
        .values(username=username, password_hash=password_hash, roles=roles, active=True)
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
