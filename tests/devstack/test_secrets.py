"""The stack gives the gateway and every service the same principal secret."""

from __future__ import annotations

import stat
from pathlib import Path

from devstack.secrets import PRINCIPAL_SECRET_FILE, principal_secret, with_principal_secret


def test_a_generated_secret_is_kept_for_the_owner_only_and_reused(tmp_path: Path) -> None:
    first = principal_secret({}, tmp_path)

    assert len(first) >= 32
    assert principal_secret({}, tmp_path) == first
    mode = stat.S_IMODE((tmp_path / PRINCIPAL_SECRET_FILE).stat().st_mode)
    assert mode == 0o600


def test_a_configured_secret_wins_and_nothing_is_written(tmp_path: Path) -> None:
    env = with_principal_secret({"POSTLOAN_PRINCIPAL_SECRET": "s" * 40}, tmp_path)

    assert env["POSTLOAN_PRINCIPAL_SECRET"] == "s" * 40
    assert not (tmp_path / PRINCIPAL_SECRET_FILE).exists()
