"""How each app process is launched: its command line and environment (pure)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from devstack.config import Component, StackConfig


@dataclass(frozen=True)
class AppProcess:
    """One uvicorn process of the stack, ready to be spawned."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ready_url(self) -> str:
        return f"{self.base_url}/readyz"


def uvicorn_argv(
    app: str, port: int, *, python: str = sys.executable, host: str = "127.0.0.1"
) -> tuple[str, ...]:
    """``uvicorn --factory`` on ``host`` with uvloop and httptools, the fast pair."""
    return (
        python,
        "-m",
        "uvicorn",
        "--factory",
        app,
        "--host",
        host,
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "10",
    )


def app_env(
    base: Mapping[str, str], component: Component, *, database_url: str, nats_url: str
) -> dict[str, str]:
    """The environment of one app: the user's, with its own database and the stack's bus."""
    env = dict(base)
    env.update(
        POSTLOAN_SERVICE_NAME=component.name,
        POSTLOAN_ENVIRONMENT="development",
        POSTLOAN_DATABASE_URL=database_url,
        POSTLOAN_NATS_URL=nats_url,
        POSTLOAN_LOG_JSON=base.get("POSTLOAN_LOG_JSON", "false"),
        PYTHONUNBUFFERED="1",
    )
    return env


def plan_apps(
    config: StackConfig,
    base_env: Mapping[str, str],
    *,
    database_urls: Mapping[str, str],
    nats_url: str,
    ports: Mapping[str, int],
) -> list[AppProcess]:
    """The four services, then the gateway pointed at them."""
    apps = [
        _app(s, base_env, database_urls[s.name], nats_url, ports[s.name]) for s in config.services
    ]
    name = config.gateway.name
    gateway = _app(config.gateway, base_env, database_urls[name], nats_url, config.gateway_port)
    upstreams = {f"POSTLOAN_UPSTREAM_{a.name.upper()}": a.base_url for a in apps}
    env = {**gateway.env, **upstreams, "POSTLOAN_STATE_DIR": str(config.state_dir)}
    # Only the gateway may listen beyond this machine (a container, a server behind a proxy).
    host = base_env.get("POSTLOAN_GATEWAY_HOST") or "127.0.0.1"
    argv = uvicorn_argv(config.gateway.app, config.gateway_port, host=host)
    return [*apps, AppProcess(gateway.name, argv, env, gateway.port)]


def _app(
    component: Component, base: Mapping[str, str], database_url: str, nats_url: str, port: int
) -> AppProcess:
    env = app_env(base, component, database_url=database_url, nats_url=nats_url)
    return AppProcess(component.name, uvicorn_argv(component.app, port), env, port)


def log_path(state_dir: Path, name: str) -> Path:
    return state_dir / "logs" / f"{name}.log"
