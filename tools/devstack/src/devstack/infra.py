"""PostgreSQL and NATS for the stack: embedded servers under the state folder, or the user's."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from devstack.config import StackConfig, database_url, display_url
from devstack.embedded import EmbeddedNats, EmbeddedPostgres
from devstack.failures import ComponentFailed
from devstack.lines import LineLog, follow, size_of
from devstack.plan import log_path
from devstack.ports import PortBook
from devstack.reaper import Recorded, descendants_of, kill, record
from shared.db import create_database

OnLine = Callable[[str, str], None]


class Progress(Protocol):
    def __call__(self, name: str, message: str, *, ok: bool = False) -> None: ...


@dataclass
class Server:
    """An embedded server the stack started: tailed while it runs, stopped last."""

    name: str
    handle: EmbeddedPostgres | EmbeddedNats
    lines: LineLog
    stop_signal: int
    tail: asyncio.Task[None] | None = None

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        if self.handle.proc is None:
            raise RuntimeError(f"{self.name} has not been started")
        return self.handle.proc

    def record(self) -> Recorded:
        return record(self.name, self.proc.pid, self.stop_signal)

    def stop(self, *, hurry: bool) -> None:
        """Stop cleanly (PostgreSQL: fast shutdown), or kill when hurried; then its children."""
        if self.handle.proc is None:
            return
        family = descendants_of(self.proc.pid)
        if hurry:
            self.handle.kill()
        else:
            self.handle.stop()
        kill(family)


@dataclass
class Infra:
    """Where the apps find their databases and the bus; the servers the stack runs itself."""

    nats_url: str = ""
    database_urls: dict[str, str] = field(default_factory=dict)
    servers: list[Server] = field(default_factory=list)


async def start_infra(
    config: StackConfig, book: PortBook, infra: Infra, *, progress: Progress, on_line: OnLine
) -> None:
    """Fill ``infra`` (servers are added as soon as they run, so a failure can stop them)."""
    await asyncio.gather(
        _postgres(config, book, infra, progress, on_line),
        _nats(config, book, infra, progress, on_line),
    )
    server_url = config.postgres_url or _server_url(infra)
    for component in config.components:
        given = config.database_url_of(component)
        if given is not None:
            infra.database_urls[component.name] = given
            continue
        assert server_url is not None
        try:
            await create_database(server_url, component.database)
        except Exception as exc:
            failure = f"cannot create database {component.database} on {display_url(server_url)}"
            raise ComponentFailed("postgres", f"{failure}: {exc}") from exc
        infra.database_urls[component.name] = database_url(server_url, component.database)
    if config.databases_to_create:
        names = ", ".join(c.database for c in config.databases_to_create)
        progress("postgres", f"databases ready: {names}", ok=True)


def _server_url(infra: Infra) -> str | None:
    for server in infra.servers:
        if isinstance(server.handle, EmbeddedPostgres):
            return server.handle.url
    return None


async def _postgres(
    config: StackConfig, book: PortBook, infra: Infra, progress: Progress, on_line: OnLine
) -> None:
    if not config.needs_embedded_postgres:
        where = display_url(config.postgres_url) if config.postgres_url else "given URLs"
        progress("postgres", f"using {where}")
        return
    log_file = log_path(config.state_dir, "postgres")
    pg = EmbeddedPostgres(config.state_dir / "pg", port=book.claim("postgres"), log_file=log_file)
    server = Server("postgres", pg, _lines("postgres", on_line), signal.SIGINT)
    progress("postgres", "starting embedded PostgreSQL")
    await _start(server, log_file, infra)
    book.record("postgres", pg.port)
    progress("postgres", f"ready on 127.0.0.1:{pg.port}", ok=True)


async def _nats(
    config: StackConfig, book: PortBook, infra: Infra, progress: Progress, on_line: OnLine
) -> None:
    if config.nats_url is not None:
        await _reachable(config.nats_url)
        infra.nats_url = config.nats_url
        progress("nats", f"using {config.nats_url}")
        return
    log_file = log_path(config.state_dir, "nats")
    nats = EmbeddedNats(
        config.state_dir / "nats",
        port=book.claim("nats"),
        monitor_port=book.claim("nats-monitor"),
        log_file=log_file,
    )
    server = Server("nats", nats, _lines("nats", on_line), signal.SIGTERM)
    progress("nats", "starting embedded NATS with JetStream")
    await _start(server, log_file, infra)
    book.record("nats", nats.port)
    book.record("nats-monitor", nats.monitor_port)
    await _jetstream_ready(nats, server)
    infra.nats_url = nats.url
    progress("nats", f"ready on {nats.url} (JetStream, sync_interval: always)", ok=True)


def _lines(name: str, on_line: OnLine) -> LineLog:
    return LineLog(lambda line: on_line(name, line))


async def _start(server: Server, log_file: Path, infra: Infra) -> None:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    server.tail = asyncio.create_task(follow(log_file, server.lines, offset=size_of(log_file)))
    infra.servers.append(server)  # stopped with the rest, even when it fails half-way
    try:
        await asyncio.to_thread(server.handle.start)
    except Exception as exc:
        await asyncio.sleep(0.3)  # let the tail catch the server's last words
        detail = _stderr(exc)
        lines = [*server.lines.recent, *detail.splitlines()]
        raise ComponentFailed(server.name, f"did not start: {exc}", lines[-40:]) from exc


def _stderr(exc: Exception) -> str:
    """What a failed ``initdb`` wrote (it runs with its output captured)."""
    if isinstance(exc, subprocess.CalledProcessError) and isinstance(exc.stderr, bytes):
        return exc.stderr.decode(errors="replace")
    return ""


async def _jetstream_ready(nats: EmbeddedNats, server: Server, timeout_s: float = 30.0) -> None:
    url = f"http://127.0.0.1:{nats.monitor_port}/healthz?js-enabled-only=true"
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise ComponentFailed("nats", "JetStream is not ready", server.lines.recent)


async def _reachable(nats_url: str, timeout_s: float = 5.0) -> None:
    first = urlsplit(nats_url.split(",")[0].strip())
    host, port = first.hostname or "127.0.0.1", first.port or 4222
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except (OSError, TimeoutError) as exc:
        failure = f"cannot reach {nats_url} (POSTLOAN_NATS_URL): {exc}"
        raise ComponentFailed("nats", failure) from exc
    writer.close()
    await writer.wait_closed()
