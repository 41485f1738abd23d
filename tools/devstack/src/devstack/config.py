"""What the embedded stack runs, and the settings it reads from the environment.

Everything here is pure: ``StackConfig.from_env`` takes the environment as a mapping, so the
rules (state folder, bring-your-own servers, the gateway port) are tested without a process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_GATEWAY_PORT = 8000
DEFAULT_READY_TIMEOUT_S = 120.0


class ConfigError(ValueError):
    """A setting the stack cannot start with; the message names the variable."""


@dataclass(frozen=True)
class Component:
    """One ASGI app of the platform, run as ``uvicorn --factory <app>``."""

    name: str
    app: str
    preferred_port: int

    @property
    def database(self) -> str:
        return f"postloan_{self.name}"

    @property
    def database_url_variable(self) -> str:
        return f"POSTLOAN_{self.name.upper()}_DATABASE_URL"


SERVICES: tuple[Component, ...] = (
    Component("monitoring", "monitoring.main:create_app", 8001),
    Component("scoring", "scoring.main:create_app", 8002),
    Component("collections", "collections_service.main:create_app", 8003),
    Component("notify", "notify.main:create_app", 8004),
)
GATEWAY = Component("gateway", "gateway.main:create_app", DEFAULT_GATEWAY_PORT)
COMPONENTS: tuple[Component, ...] = (*SERVICES, GATEWAY)


@dataclass(frozen=True)
class StackConfig:
    """The stack's settings; servers given here are used instead of embedded ones."""

    state_dir: Path
    gateway_port: int = DEFAULT_GATEWAY_PORT
    postgres_url: str | None = None
    database_urls: Mapping[str, str] | None = None
    nats_url: str | None = None
    admin_password_set: bool = False
    ready_timeout_s: float = DEFAULT_READY_TIMEOUT_S
    services: tuple[Component, ...] = SERVICES
    gateway: Component = GATEWAY

    @classmethod
    def from_env(cls, env: Mapping[str, str], cwd: Path) -> StackConfig:
        state = Path(env.get("POSTLOAN_STATE_DIR") or ".postloan").expanduser()
        overrides = {
            c.name: asyncpg_url(url, c.database_url_variable)
            for c in COMPONENTS
            if (url := env.get(c.database_url_variable))
        }
        server = env.get("POSTLOAN_POSTGRES_URL")
        return cls(
            state_dir=(cwd / state).resolve(),
            gateway_port=_port(env.get("POSTLOAN_GATEWAY_PORT"), DEFAULT_GATEWAY_PORT),
            postgres_url=asyncpg_url(server, "POSTLOAN_POSTGRES_URL") if server else None,
            database_urls=overrides,
            nats_url=env.get("POSTLOAN_NATS_URL") or None,
            admin_password_set=bool(env.get("POSTLOAN_ADMIN_PASSWORD")),
        )

    @property
    def components(self) -> tuple[Component, ...]:
        """The services, then the gateway (which reaches them, so it is started last)."""
        return (*self.services, self.gateway)

    def database_url_of(self, component: Component) -> str | None:
        """The URL the user gave for this component's database, if any."""
        return (self.database_urls or {}).get(component.name)

    @property
    def databases_to_create(self) -> tuple[Component, ...]:
        """Components whose database lives on the stack's server (embedded or given)."""
        return tuple(c for c in self.components if self.database_url_of(c) is None)

    @property
    def needs_embedded_postgres(self) -> bool:
        return self.postgres_url is None and bool(self.databases_to_create)

    @property
    def needs_embedded_nats(self) -> bool:
        return self.nats_url is None

    @property
    def admin_password_file(self) -> Path:
        return self.state_dir / "admin-password"


def _port(raw: str | None, default: int) -> int:
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"POSTLOAN_GATEWAY_PORT must be a port number, not {raw!r}") from None
    if not 1 <= port <= 65535:
        raise ConfigError(f"POSTLOAN_GATEWAY_PORT must be between 1 and 65535, not {port}")
    return port


def asyncpg_url(url: str, variable: str) -> str:
    """A PostgreSQL URL with the asyncpg driver the services use (``postgres://`` accepted)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"{variable} is not a database URL: {url!r}") from None
    if parsed.get_backend_name() not in {"postgresql", "postgres"}:
        raise ConfigError(f"{variable} must be a PostgreSQL URL, not {parsed.drivername}://")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def database_url(server_url: str, database: str) -> str:
    """The URL of ``database`` on the server of ``server_url``."""
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def display_url(url: str) -> str:
    """A URL fit for the terminal: the password hidden."""
    if "://" not in url or not url.startswith("postgres"):
        return url
    return make_url(url).render_as_string(hide_password=True)
