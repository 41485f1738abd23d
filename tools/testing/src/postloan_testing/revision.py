"""Autogenerate a service's migration: ``python -m postloan_testing.revision <package> "message"``.

Starts a throw-away embedded PostgreSQL, brings a fresh database to head, and lets Alembic
compare it with the service's tables.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import tempfile
from pathlib import Path

from alembic import command

from devstack.embedded import EmbeddedPostgres
from shared.db import alembic_config, create_database, migrate


def main(package: str, message: str) -> None:
    migrations = Path(importlib.import_module(package).__file__ or "").parent / "migrations"
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pg").start()
        try:
            asyncio.run(create_database(server.url, "revision"))
            url = server.url_for("revision")
            asyncio.run(migrate(url, migrations))
            config = alembic_config(migrations, url, "alembic_version")
            command.revision(config, message=message, autogenerate=True)
        finally:
            server.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
