"""``postloan-stack restore <backup>``: a stopped platform's state folder, back from a backup.

What was in the state folder is moved aside (``replaced-<UTC time>/``), never deleted. The
databases are restored into a new cluster and the JetStream store copied back without its
consumers: each service re-creates its durable consumers at start and reads every stream from
the beginning; its inbox skips what its database had already applied (see
:mod:`devstack.backup` for why that is all it takes).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from devstack.backup import STATE_FILES
from devstack.embedded import _pg_bin
from devstack.pg_access import DatabaseServer, reach_postgres
from shared.db import create_database

MOVED = ("pg", "nats", *STATE_FILES)


@dataclass(frozen=True)
class Restored:
    databases: list[str]
    set_aside: Path | None


def restore_backup(backup: Path, state_dir: Path, now: datetime) -> Restored:
    manifest = json.loads((backup / "manifest.json").read_text())
    files: dict[str, str] = manifest["databases"]
    aside = state_dir / ("replaced-" + now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"))
    moved: list[str] = []

    def set_aside() -> None:
        for name in MOVED:
            if (state_dir / name).exists():
                aside.mkdir(parents=True, exist_ok=True)
                (state_dir / name).rename(aside / name)
                moved.append(name)

    state_dir.mkdir(parents=True, exist_ok=True)
    with reach_postgres(state_dir, create=True, first=set_aside) as server:
        for file in files.values():
            _restore_database(server, backup / "databases" / file)
    if (backup / "jetstream").exists():
        shutil.copytree(backup / "jetstream", state_dir / "nats" / "jetstream")
    for name in STATE_FILES:
        source = backup / "files" / name
        if source.is_dir():
            shutil.copytree(source, state_dir / name)
        elif source.exists():
            shutil.copy2(source, state_dir / name)
    return Restored(
        sorted(f.removesuffix(".dump") for f in files.values()), aside if moved else None
    )


def _restore_database(server: DatabaseServer, dump: Path) -> None:
    database = dump.name.removesuffix(".dump")
    asyncio.run(create_database(server.url, database))
    done = subprocess.run(
        [
            str(_pg_bin() / "pg_restore"),
            *server.connection_args(),
            "--no-owner",
            "--exit-on-error",
            f"--dbname={database}",
            str(dump),
        ],
        capture_output=True,
    )
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"pg_restore of {database} failed: {said}")
