"""``postloan-stack backup`` and ``postloan-stack restore``: what they say, and their exit codes."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from devstack.backup import BackupSettings, take_backup
from devstack.config import ConfigError, StackConfig
from devstack.console import Console
from devstack.reaper import AlreadyRunning
from devstack.restore import restore_backup


def _embedded_only(config: StackConfig) -> None:
    if not config.needs_embedded_postgres or config.databases_to_create != config.components:
        raise ConfigError(
            "backup and restore cover the embedded PostgreSQL: with POSTLOAN_POSTGRES_URL or "
            "POSTLOAN_<SERVICE>_DATABASE_URL set, back up your own server with its own tools"
        )


def backup(env: Mapping[str, str], cwd: Path, console: Console) -> int:
    """Back up the platform of the state folder, running or not."""
    try:
        config = StackConfig.from_env(env, cwd)
        _embedded_only(config)
        settings = BackupSettings.from_env(env, config.state_dir)
        console.progress("backup", f"backing up {config.state_dir}")
        folder = take_backup(settings, datetime.now(UTC))
    except (ConfigError, OSError, RuntimeError, subprocess.SubprocessError) as exc:
        console.failure("backup", str(exc))
        return 1
    console.progress("backup", f"written to {folder} (keeping the newest {settings.keep})", ok=True)
    return 0


def restore(env: Mapping[str, str], cwd: Path, console: Console, backup_dir: Path) -> int:
    """Restore ``backup_dir`` into the (stopped) platform's state folder."""
    try:
        config = StackConfig.from_env(env, cwd)
        _embedded_only(config)
        if not (backup_dir / "manifest.json").exists():
            raise ConfigError(f"{backup_dir} is not a backup (it has no manifest.json)")
        console.progress("restore", f"restoring {backup_dir} into {config.state_dir}")
        done = restore_backup(backup_dir.resolve(), config.state_dir, datetime.now(UTC))
    except AlreadyRunning as exc:
        console.failure("restore", f"{exc}: stop it first (the state folder is {config.state_dir})")
        return 1
    except (ConfigError, OSError, RuntimeError, subprocess.SubprocessError) as exc:
        console.failure("restore", str(exc))
        return 1
    if done.set_aside is not None:
        console.progress("restore", f"what was in the state folder is now in {done.set_aside}")
    console.progress("restore", f"restored {', '.join(done.databases)} and the streams", ok=True)
    console.progress("restore", "`make run` starts it; consumers replay their streams once")
    return 0
