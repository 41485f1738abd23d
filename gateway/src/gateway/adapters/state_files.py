"""Secrets kept in the local state folder, readable by the owner only (mode 0600)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

PRIVATE = 0o600


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that only the owner may read it, even if it existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def read_or_create(path: Path, generate: Callable[[], str]) -> str:
    """The secret in ``path``; created first with ``generate()`` when missing.

    The file appears complete or not at all (written aside, then hard-linked into place), so
    two processes starting together agree on one secret.
    """
    if path.exists():
        return path.read_text().strip()
    draft = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    write_private(draft, generate())
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()
