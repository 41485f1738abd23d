"""The supervisor: start the stack, keep it serving, and stop all of it.

A process that fails while the stack starts stops the stack with its last lines (a wrong
setting is not retried). Once everything is ready, a process that exits or hangs is restarted
with back-off by :mod:`devstack.supervision`, its reason and last lines said on the console.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from devstack.child import AppChild
from devstack.config import ConfigError, StackConfig, display_url
from devstack.console import Console, Link
from devstack.embedded import port_is_free
from devstack.failures import ComponentFailed
from devstack.infra import Infra, Server, start_infra
from devstack.logrotate import LogRotation, keep_logs_small
from devstack.plan import AppProcess, log_path, plan_apps
from devstack.ports import PortBook
from devstack.reaper import AlreadyRunning, Registry, record
from devstack.restarts import RestartPolicy
from devstack.secrets import with_principal_secret
from devstack.smtp_sink import EmbeddedSmtp, smtp_url_for
from devstack.supervision import Supervisor
from devstack.upgrade import NewerStateFolder, upgrade_databases

#: Long enough for a service to finish its batch, stop its relay and drain NATS.
APP_GRACE_S = 20.0
_POLL_S = 0.25
#: A second Ctrl-C this soon after the first is the same keypress delivered twice (uv, make).
_REPEAT_S = 1.0


@dataclass(frozen=True)
class StackInfo:
    """What a running stack serves, for the banner and for hooks run once it is ready."""

    gateway_url: str
    service_urls: Mapping[str, str]
    nats_url: str
    database_urls: Mapping[str, str]
    state_dir: Path


#: Run in turn once every app is ready, while the stack is watched: a crash or Ctrl-C cancels it.
ReadyHook = Callable[[StackInfo], Awaitable[None]]


class Stack:
    """One run of the stack; ``await Stack(...).run()`` returns the process exit code."""

    def __init__(self, config: StackConfig, env: Mapping[str, str], console: Console) -> None:
        self.config = config
        self.env = env
        self.console = console
        self.infra = Infra()
        self.children: list[AppChild] = []
        self.stopping = asyncio.Event()
        self.hurry = asyncio.Event()
        self._first_signal = 0.0
        self._registry = Registry(config.state_dir / "processes.json")
        self._book = PortBook(config.state_dir / "ports.json")
        self.smtp: EmbeddedSmtp | None = None

    async def run(self, hooks: Sequence[ReadyHook] = ()) -> int:
        for folder in (self.config.state_dir, self.config.state_dir / "logs"):
            folder.mkdir(parents=True, exist_ok=True)
        self._handle_signals()
        try:
            return await self._run(hooks)
        except (ComponentFailed, AlreadyRunning) as exc:
            failure = exc if isinstance(exc, ComponentFailed) else _in_use(exc, self.config)
            self.console.failure(failure.name, failure.headline, failure.lines)
            return 1
        finally:
            await self._shutdown()
            self._book.save()
            self._registry.release()
            self._restore_signals()

    async def _run(self, hooks: Sequence[ReadyHook]) -> int:
        try:
            policy = RestartPolicy.from_env(self.env)
            rotation = LogRotation.from_env(self.env)
        except ConfigError as exc:
            raise ComponentFailed("stack", str(exc)) from exc
        swept = await asyncio.to_thread(self._registry.claim)
        if swept:
            self.console.progress("stack", f"ended leftovers of a previous run: {', '.join(swept)}")
        if self.stopping.is_set():
            return 0
        await start_infra(
            self.config,
            self._book,
            self.infra,
            progress=self.console.progress,
            on_line=self.console.log,
        )
        for server in self.infra.servers:
            self._registry.add(server.record())
        if self.stopping.is_set():
            return 0
        await self._upgrade()
        await self._start_smtp()  # it writes into notify's database: after its migrations
        apps = self._plan()
        self._book.save()  # where everything listens, for `postloan-stack backup` meanwhile
        if not await self._unless_stopped(self._start_apps(apps)):
            return 0
        info = StackInfo(
            gateway_url=apps[-1].base_url,
            service_urls={a.name: a.base_url for a in apps[:-1]},
            nats_url=self.infra.nats_url,
            database_urls=self.infra.database_urls,
            state_dir=self.config.state_dir,
        )
        self._banner(info)
        self.console.live = True
        keeper = Supervisor(
            policy, self.console, self._registry, start_timeout_s=self.config.ready_timeout_s
        )
        health = [f"{app.base_url}/healthz" for app in apps]
        logs = keep_logs_small(self.config.state_dir / "logs", rotation)
        return await self._supervise(_in_turn(hooks, info), keeper, health, logs)

    async def _upgrade(self) -> None:
        """Migrate databases an older version left behind; refuse ones a newer one wrote."""
        try:
            applied = await upgrade_databases(
                self.config.components, self.infra.database_urls, state_dir=self.config.state_dir
            )
        except NewerStateFolder as exc:
            raise ComponentFailed("stack", str(exc)) from exc
        for done in applied:
            self.console.progress(done.component, done.describe(), ok=True)

    def _plan(self) -> list[AppProcess]:
        if not port_is_free(self.config.gateway_port):
            raise ComponentFailed(
                "gateway",
                f"127.0.0.1:{self.config.gateway_port} is in use: stop what listens there "
                "or choose another port with POSTLOAN_GATEWAY_PORT",
            )
        ports = {s.name: self._book.claim(s.name, s.preferred_port) for s in self.config.services}
        smtp = smtp_url_for(self.env, self.smtp.port) if self.smtp else {}
        return plan_apps(
            self.config,
            with_principal_secret({**self.env, **smtp}, self.config.state_dir),
            database_urls=self.infra.database_urls,
            nats_url=self.infra.nats_url,
            ports=ports,
        )

    async def _start_smtp(self) -> None:
        """Without POSTLOAN_SMTP_URL, e-mail goes to the embedded SMTP server (smtp_sink)."""
        notify_db = self.infra.database_urls.get("notify")
        if notify_db is not None and smtp_url_for(self.env, 0):
            port = self._book.claim("smtp", None)
            self.smtp = EmbeddedSmtp(notify_db, port)
            await self.smtp.start()
            self.console.progress("smtp", f"keeping e-mail on 127.0.0.1:{port} (notify's sink)")

    async def _start_apps(self, apps: Sequence[AppProcess]) -> None:
        for app in apps:
            log_file = log_path(self.config.state_dir, app.name)
            child = AppChild(
                app.name, app.argv, app.env, log_file=log_file, on_line=self.console.log
            )
            await child.start()
            self.children.append(child)
            self._registry.add(record(app.name, child.pid))
            self.console.progress(app.name, f"starting on {app.base_url}")
        deadline = time.monotonic() + self.config.ready_timeout_s
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
            ready = {
                asyncio.ensure_future(self._ready(client, app, child, deadline))
                for app, child in zip(apps, self.children, strict=True)
            }
            await _until_done(ready, failures=[_watch_server(s) for s in self.infra.servers])

    async def _ready(
        self, client: httpx.AsyncClient, app: AppProcess, child: AppChild, deadline: float
    ) -> None:
        started, last = time.monotonic(), "no answer yet"
        while True:
            if child.returncode is not None:
                code = await child.wait()
                headline = f"exited with code {code} before it was ready"
                raise ComponentFailed(app.name, headline, child.lines.recent)
            try:
                response = await client.get(app.ready_url)
                if response.status_code == 200:
                    elapsed = time.monotonic() - started
                    self.console.progress(app.name, f"ready ({elapsed:.1f} s)", ok=True)
                    return
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            if time.monotonic() > deadline:
                headline = (
                    f"not ready after {self.config.ready_timeout_s:.0f} s "
                    f"(GET {app.ready_url}: {last})"
                )
                raise ComponentFailed(app.name, headline, child.lines.recent)
            await asyncio.sleep(_POLL_S)

    async def _supervise(
        self,
        hooks: Awaitable[None],
        keeper: Supervisor,
        health_urls: Sequence[str],
        logs: Awaitable[None],
    ) -> int:
        """Keep every process up until a stop request (exit 0).

        The hooks run meanwhile: a stop request cancels them; one that raises stops the stack
        with its exception.
        """
        stop = asyncio.ensure_future(self.stopping.wait())
        pairs = zip(self.children, health_urls, strict=True)
        watches = [keeper.keep_app(child, url) for child, url in pairs]
        servers = map(keeper.keep_server, self.infra.servers)
        await _until_done({stop}, failures=[hooks, logs, *watches, *servers])
        return 0

    async def _unless_stopped(self, work: Awaitable[None]) -> bool:
        """Run ``work`` unless a stop is requested first; whether it completed."""
        task = asyncio.ensure_future(work)
        stop = asyncio.ensure_future(self.stopping.wait())
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if task.done():
            task.result()
            return True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False

    async def _shutdown(self) -> None:
        if not (self.children or self.infra.servers):
            return
        self.console.progress("stack", "stopping the gateway, the services, NATS and PostgreSQL")
        apps = list(reversed(self.children))  # the gateway first: no new requests come in
        if apps and apps[0].name == self.config.gateway.name:
            await apps.pop(0).stop(grace_s=APP_GRACE_S, hurry=self.hurry)
        await asyncio.gather(*(a.stop(grace_s=APP_GRACE_S, hurry=self.hurry) for a in apps))
        if self.smtp is not None:
            await self.smtp.stop()
        for server in sorted(self.infra.servers, key=lambda s: s.name != "nats"):
            await asyncio.to_thread(server.stop, hurry=self.hurry.is_set())
            if server.tail is not None:
                server.tail.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await server.tail
        left = await asyncio.to_thread(self._registry.end_survivors)
        if left:
            self.console.failure("stack", f"had to kill what did not stop: {', '.join(left)}")
        self.console.progress("stack", "stopped; no process is left behind", ok=True)

    def _banner(self, info: StackInfo) -> None:
        links = [
            Link("gateway", info.gateway_url),
            Link("API docs", f"{info.gateway_url}/docs"),
            Link("OpenAPI", f"{info.gateway_url}/api/v1/openapi.json"),
            Link("NATS", info.nats_url),
        ]
        links += [Link(name, url) for name, url in info.service_urls.items()]
        pg = next((s for s in self.infra.servers if s.name == "postgres"), None)
        if pg is not None:
            links.append(Link("PostgreSQL", display_url(pg.handle.url.replace("+asyncpg", ""))))
        if self.config.admin_password_set:
            admin = "user admin, password from POSTLOAN_ADMIN_PASSWORD"
        else:
            admin = f"user admin, password in {self.config.admin_password_file} (owner-only)"
        links += [Link("admin", admin), Link("logs", str(self.config.state_dir / "logs"))]
        self.console.banner("PostLoan is running", links, ["Ctrl-C stops everything."])

    def _handle_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self._on_signal, sig)

    def _restore_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        now = time.monotonic()
        if not self.stopping.is_set():
            self._first_signal = now
            self.stopping.set()
            self.console.progress("stack", f"{sig.name}: stopping (again to kill at once)")
        elif now - self._first_signal > _REPEAT_S and not self.hurry.is_set():
            self.hurry.set()
            self.console.progress("stack", f"{sig.name} again: killing what is left")


async def _in_turn(hooks: Sequence[ReadyHook], info: StackInfo) -> None:
    for hook in hooks:
        await hook(info)


async def _until_done(
    goals: Iterable[asyncio.Future[Any]], *, failures: Sequence[Awaitable[None]]
) -> None:
    """Wait until every goal is done, the others running alongside; the first exception wins."""
    wanted = set(goals)
    pending: set[asyncio.Future[Any]] = {*wanted, *map(asyncio.ensure_future, failures)}
    try:
        while wanted & pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for future in done:
                future.result()
    finally:
        for future in pending:
            future.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def _watch_server(server: Server) -> None:
    while (code := server.proc.poll()) is None:
        await asyncio.sleep(0.5)
    await asyncio.sleep(0.3)  # let the tail catch the server's last words
    raise ComponentFailed(server.name, _exited_headline(code), server.lines.recent)


def _exited_headline(code: int) -> str:
    return f"exited with code {code} while the stack started; stopping the stack"


def _in_use(exc: AlreadyRunning, config: StackConfig) -> ComponentFailed:
    return ComponentFailed("stack", f"{exc}: its state folder is {config.state_dir}")
