"""Database access: one async engine per service, a session per unit of work, migrations.

Each service owns its database and its own SQLAlchemy ``MetaData`` (so two services may both
have a ``loan`` table without clashing when imported into one process, as tests do). Table
classes derive from a base class built on :func:`new_registry`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction, registry

#: Constraint names are predictable so that migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def new_registry() -> registry:
    """A registry with its own metadata, for one service's table base class::

    class Base(SQLModel, registry=new_registry()):
        pass
    """
    return registry(metadata=new_metadata())


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under ``session``, in the session's transaction: for bulk
    statements (COPY, ``executemany``) where SQLAlchemy's per-row work would cost more than
    the statement, and for the fixed statements of hot paths (a payment, an event), where
    its statement building cost several times the statement (profiled). Fixed texts with
    array parameters are prepared once per connection by asyncpg.

    Kept on the session until its transaction ends: finding it through SQLAlchemy takes two
    greenlet switches, and a payment asks for it about eight times (profiled: ~0.5 ms of
    monitoring's CPU per payment)."""
    cached: asyncpg.Connection | None = session.info.get(_DRIVER)
    if cached is not None:
        return cached
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    if session.in_transaction() and not driver.is_in_transaction():
        # SQLAlchemy sends BEGIN with the first statement it runs: without one, what runs on
        # the driver directly would commit on its own. Its asyncpg adapter's own BEGIN, so
        # that its commit and rollback end this transaction (a ``SELECT 1`` through the
        # session cost a millisecond of each payment).
        adapter: Any = raw.dbapi_connection
        await adapter._start_transaction()
    if session.in_transaction():
        session.info[_DRIVER] = driver
    return driver


_DRIVER = "postloan.driver_connection"


@event.listens_for(Session, "after_transaction_end")
def _forget_driver(session: Session, transaction: SessionTransaction) -> None:
    """The connection goes back to the pool with the transaction: never reuse it after."""
    if transaction.parent is None:
        session.info.pop(_DRIVER, None)


def asyncpg_dsn(url: str) -> str:
    """The plain ``postgresql://`` DSN asyncpg wants, from a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sqlalchemy_async_url(url: str) -> str:
    """A SQLAlchemy asyncpg URL from one a user typed (``postgresql://`` accepted too)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def _discard_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Hand out no pooled connection that the server closed (it restarted, or ended it).

    Instead of ``pool_pre_ping``, which with asyncpg costs three round trips per checkout
    (begin, ``;``, rollback; a fifth of a payment's database work): asyncpg marks a
    connection closed as soon as the server closes its socket, and the pool replaces it.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise exc.DisconnectionError("the database server closed this connection")


class Database:
    """The engine and session factory of one service; built in the lifespan, disposed at exit."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            # Statement parameters hold borrowers' data: never quoted in errors or SQL logs.
            hide_parameters=True,
            # Shorter than a consumer's ack_wait, so a partition fails fast and is retried.
            connect_args={"timeout": 5},
        )
        event.listen(self.engine.sync_engine.pool, "checkout", _discard_closed)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(script_location: Path, url: str, version_table: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["version_table"] = version_table
    return config


def upgrade(script_location: Path, url: str, *, version_table: str = "alembic_version") -> None:
    """Apply every pending migration of one migration folder (blocking)."""
    command.upgrade(alembic_config(script_location, url, version_table), "head")


SHARED_MIGRATIONS = Path(__file__).parent / "migrations"


async def migrate(url: str, service_migrations: Path | None) -> None:
    """Bring a service's database to head: shared messaging tables first, then its own."""
    await asyncio.to_thread(upgrade, SHARED_MIGRATIONS, url, version_table="shared_alembic_version")
    if service_migrations is not None:
        await asyncio.to_thread(upgrade, service_migrations, url)


async def create_database(server_url: str, name: str) -> None:
    """Create database ``name`` on a server unless it exists (used by the embedded stack)."""
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
