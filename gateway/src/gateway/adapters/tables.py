"""The gateway's tables: the only ``table=True`` classes of the gateway."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from shared.db import new_registry


class Base(SQLModel, registry=new_registry()):
    """The gateway's tables share this metadata (migrated by Alembic)."""


def _uuid_key() -> sa.Column[uuid.UUID]:
    return sa.Column(sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()"))


def _text_array() -> sa.Column[list[str]]:
    return sa.Column(ARRAY(sa.Text), nullable=False, server_default="{}")


def _created_at() -> sa.Column[datetime]:
    return sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


class UserRow(Base, table=True):
    __tablename__ = "users"

    user_id: uuid.UUID = Field(sa_column=_uuid_key())
    username: str = Field(max_length=64, unique=True)
    password_hash: str
    roles: list[str] = Field(sa_column=sa.Column(ARRAY(sa.Text), nullable=False))
    active: bool = True
    created_at: datetime = Field(sa_column=_created_at())
    #: The user's team lead (a ``supervisor``): the team is every user naming them here.
    supervisor: str | None = Field(default=None, max_length=64, index=True)
    skills: list[str] = Field(sa_column=_text_array())
    languages: list[str] = Field(sa_column=_text_array())
    capacity: int | None = None  # open cases the collector can carry
    away: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class ApiKeyRow(Base, table=True):
    """A machine client's key: only its SHA-256 is stored; the key is shown once."""

    __tablename__ = "api_keys"

    key_id: uuid.UUID = Field(sa_column=_uuid_key())
    name: str = Field(max_length=64, unique=True)
    key_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    roles: list[str] = Field(sa_column=sa.Column(ARRAY(sa.Text), nullable=False))
    active: bool = True
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_created_at())


class RateBucketRow(Base, table=True):
    """A principal's token bucket for one route class, shared by the gateway's replicas.

    Unlogged (migration 0003r): a bucket is rewritten many times a second and is worth
    nothing after a crash, when PostgreSQL empties the table and every bucket starts full.
    """

    __tablename__ = "rate_buckets"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    bucket_key: str = Field(primary_key=True, max_length=300)
    tokens: float
    at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class LoginFailureRow(Base, table=True):
    """Failed logins of one user name (``user:…``) or client address (``address:…``)."""

    __tablename__ = "login_failures"

    failure_key: str = Field(primary_key=True, max_length=300)
    count: int
    last_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    locked_until: datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True)
    )


class AuditEntryRow(Base, table=True):
    """One entry of the audit chain; the database refuses to update or delete it."""

    __tablename__ = "audit_log"

    sequence: int = Field(sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=False))
    recorded_at: datetime = Field(
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, index=True)
    )
    subject: str | None = Field(default=None, max_length=200, index=True)
    roles: list[str] = Field(sa_column=_text_array())
    principal_kind: str | None = Field(default=None, max_length=20)
    method: str = Field(max_length=10)
    route: str = Field(max_length=500)
    path: str = Field(max_length=2000)
    resource_ids: list[str] = Field(sa_column=_text_array())
    client: str | None = Field(default=None, max_length=100)
    status: int
    request_id: str = Field(max_length=200, index=True)
    trace_id: str | None = Field(default=None, max_length=32)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHeadRow(Base, table=True):
    """The chain's last entry, one row: appends lock it, so replicas append one at a time."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    sequence: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    hash: str = Field(max_length=64)


USERS = Base.metadata.tables[UserRow.__tablename__]
API_KEYS = Base.metadata.tables[ApiKeyRow.__tablename__]
RATE_BUCKETS = Base.metadata.tables[RateBucketRow.__tablename__]
LOGIN_FAILURES = Base.metadata.tables[LoginFailureRow.__tablename__]
AUDIT_LOG = Base.metadata.tables[AuditEntryRow.__tablename__]
AUDIT_HEAD = Base.metadata.tables[AuditHeadRow.__tablename__]
