"""Exported heads of the audit chain: one JSON line each, appended to a file kept elsewhere."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from gateway.domain.audit import Anchor, Head, parse_anchor

HEADS_FILE = "audit-heads.jsonl"


def append_head(folder: Path, head: Head, at: datetime) -> Path:
    """Append ``{"sequence", "hash", "time"}`` to the folder's heads file (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / HEADS_FILE
    line = json.dumps({"sequence": head.sequence, "hash": head.hash, "time": at.isoformat()})
    # One write of a short line with O_APPEND: replicas sharing the folder never interleave.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def read_anchors(path: Path) -> list[Anchor]:
    """Every head in a heads file; ``ValueError`` naming the line that is not one."""
    anchors = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            anchors.append(parse_anchor(line))
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
    return anchors
