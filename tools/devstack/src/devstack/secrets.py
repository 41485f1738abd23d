"""The one secret the stack itself hands out: the key of the principal the gateway signs.

The gateway signs what it forwards and every service checks it (``shared.principal``) with
``POSTLOAN_PRINCIPAL_SECRET``; both sides must hold the same value. Unless the user set one,
the stack generates it once, keeps it in the state folder readable by the owner only (the file
the gateway would generate too), and gives it to every app it starts.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

PRINCIPAL_SECRET_VARIABLE = "POSTLOAN_PRINCIPAL_SECRET"
PRINCIPAL_SECRET_FILE = "principal-secret"


def principal_secret(env: Mapping[str, str], state_dir: Path) -> str:
    """The configured secret, else the one kept in ``state_dir`` (created when missing)."""
    configured = env.get(PRINCIPAL_SECRET_VARIABLE)
    if configured:
        return configured
    path = state_dir / PRINCIPAL_SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_urlsafe(48).encode())
        finally:
            os.close(fd)
    return path.read_text().strip()


def with_principal_secret(env: Mapping[str, str], state_dir: Path) -> dict[str, str]:
    """``env`` with the principal secret every app of the stack shares."""
    return {**env, PRINCIPAL_SECRET_VARIABLE: principal_secret(env, state_dir)}
