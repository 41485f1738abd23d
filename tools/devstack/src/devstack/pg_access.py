"""The embedded PostgreSQL of a state folder, for backup and restore: the running one, or one
started for the occasion (the state folder claimed meanwhile, so ``make run`` waits its turn)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devstack.embedded import EmbeddedPostgres, free_port
from devstack.reaper import AlreadyRunning, Registry, record


@dataclass(frozen=True)
class DatabaseServer:
    port: int

    def connection_args(self) -> list[str]:
        return ["--host=127.0.0.1", f"--port={self.port}", "--username=postgres"]

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"


@contextmanager
def reach_postgres(
    state_dir: Path, *, create: bool = False, first: Callable[[], None] = lambda: None
) -> Iterator[DatabaseServer]:
    """The stack's server while it runs; otherwise one started on ``<state>/pg`` for the block.

    ``create`` (a restore) refuses a running stack and allows a new, empty data folder, after
    ``first`` ran with the state folder claimed; without it a missing one is an error.
    """
    registry = Registry(state_dir / "processes.json")
    try:
        registry.claim()
    except AlreadyRunning:
        if create:
            raise
        yield DatabaseServer(_running_port(state_dir))
        return
    try:
        first()
        if not create and not (state_dir / "pg" / "PG_VERSION").exists():
            raise FileNotFoundError(f"no embedded PostgreSQL data in {state_dir / 'pg'}")
        log = state_dir / "logs" / "postgres.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        pg = EmbeddedPostgres(state_dir / "pg", port=free_port(), log_file=log).start()
        assert pg.proc is not None
        registry.add(record("postgres", pg.proc.pid))
        try:
            yield DatabaseServer(pg.port)
        finally:
            pg.stop()
    finally:
        registry.release()


def _running_port(state_dir: Path) -> int:
    try:
        return int(json.loads((state_dir / "ports.json").read_text())["postgres"])
    except (OSError, ValueError, KeyError) as exc:
        raise FileNotFoundError(f"the running stack's PostgreSQL port is not known: {exc}") from exc
