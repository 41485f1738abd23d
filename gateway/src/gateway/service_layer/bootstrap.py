"""What the gateway sets up on start: its signing key and the ``admin`` account."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from pathlib import Path

from gateway.adapters import repository
from gateway.adapters.passwords import hash_password, verify_password
from gateway.adapters.state_files import read_or_create, write_private
from gateway.domain.scopes import Role
from gateway.settings import GatewaySettings
from shared.db import Database

log = logging.getLogger(__name__)

ADMIN = "admin"
ADMIN_PASSWORD_FILE = "admin-password"
JWT_SECRET_FILE = "jwt-secret"
#: The embedded stack (tools/devstack) keeps the same file and gives it to every service.
PRINCIPAL_SECRET_FILE = "principal-secret"

Announce = Callable[[str, Path], None]


def jwt_secret(settings: GatewaySettings) -> str:
    """The configured signing key; outside production a generated one kept in the state folder."""
    configured = settings.jwt_secret.get_secret_value()
    if configured:
        return configured
    if settings.is_production:  # unreachable: settings refuse it; kept as a last guard
        raise RuntimeError("POSTLOAN_JWT_SECRET is required in production")
    path = settings.state_dir / JWT_SECRET_FILE
    return read_or_create(path, lambda: secrets.token_urlsafe(48))


def principal_secret(settings: GatewaySettings) -> str:
    """The key the forwarded principal is signed with; outside production, when unset, one
    generated and kept in the state folder (services then refuse every call until they are
    given the same value: safe, not silent)."""
    configured = settings.principal_secret.get_secret_value()
    if configured:
        return configured
    if settings.is_production:  # unreachable: settings refuse it; kept as a last guard
        raise RuntimeError("POSTLOAN_PRINCIPAL_SECRET is required in production")
    path = settings.state_dir / PRINCIPAL_SECRET_FILE
    return read_or_create(path, lambda: secrets.token_urlsafe(48))


def print_once(password: str, path: Path) -> None:
    """Show a generated password on stdout, never in the log."""
    print(
        f"PostLoan: created user 'admin' with password {password}\n"
        f"          (shown once; kept in {path}, readable by you only)",
        flush=True,
    )


async def ensure_admin(
    db: Database, settings: GatewaySettings, announce: Announce = print_once
) -> None:
    """Create ``admin`` (or set its password from ``POSTLOAN_ADMIN_PASSWORD``)."""
    async with db.unit_of_work() as session:
        admin = await repository.find_user(session, ADMIN)
    if settings.admin_password is not None:
        password = settings.admin_password.get_secret_value()
        if admin is None:
            await _insert_admin(db, password)
        elif not await verify_password(admin.password_hash, password):
            await _set_password(db, password)
        return
    if admin is not None:
        return
    if settings.is_production:  # a password printed to stdout would end up in the log store
        raise RuntimeError("set POSTLOAN_ADMIN_PASSWORD to create the first admin in production")
    generated = secrets.token_urlsafe(18)
    if await _insert_admin(db, generated):  # another replica may have been first
        _announce(settings.state_dir / ADMIN_PASSWORD_FILE, generated, announce)


def _announce(path: Path, password: str, announce: Announce) -> None:
    try:
        write_private(path, password + "\n")
    except OSError as exc:
        log.warning("could not keep the admin password in %s: %s", path, exc)
    announce(password, path)


async def _insert_admin(db: Database, password: str) -> bool:
    password_hash = await hash_password(password)
    async with db.unit_of_work() as session:
        return await repository.insert_user(
            session, username=ADMIN, password_hash=password_hash, roles=[Role.ADMIN.value]
        )


async def _set_password(db: Database, password: str) -> None:
    password_hash = await hash_password(password)
    async with db.unit_of_work() as session:
        await repository.set_password(session, username=ADMIN, password_hash=password_hash)
    log.info("admin password set from POSTLOAN_ADMIN_PASSWORD")
