"""Keeping a running stack up: a component that exits or hangs is restarted, with back-off.

Apps (the services and the gateway) are restarted when they exit or stop answering
``/healthz`` (liveness: it needs neither the database nor the bus, so a PostgreSQL restart does
not make every service look dead). PostgreSQL and NATS are restarted on the same port and
folder when they exit; the services reconnect to them on their own (the bus reconnects forever,
the database pool drops connections the server closed). Every restart and its reason is said
on the console, which is the stack's log.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterable

import httpx

from devstack.child import AppChild
from devstack.console import Console
from devstack.embedded import EmbeddedNats
from devstack.infra import Server, _jetstream_ready
from devstack.reaper import Registry, record
from devstack.restarts import RestartPolicy, Restarts

#: How long a hung app is given to stop after SIGTERM before it is killed.
_HUNG_GRACE_S = 5.0
_SHOWN_LINES = 12
#: Generous: a loaded two-core machine may answer slowly; a hung process never answers.
_HEALTH_TIMEOUT_S = 5.0


class Supervisor:
    """Restarts the stack's components; each ``keep_*`` coroutine watches one until cancelled."""

    def __init__(
        self,
        policy: RestartPolicy,
        console: Console,
        registry: Registry,
        *,
        start_timeout_s: float,
    ) -> None:
        self.policy = policy
        self.console = console
        self.registry = registry
        self.start_timeout_s = start_timeout_s

    async def keep_app(self, child: AppChild, health_url: str) -> None:
        restarts, ready = Restarts(self.policy), True  # the stack saw it ready at first
        while True:
            reason = await self._app_trouble(child, health_url, answered=ready)
            ready = False
            if not await self._back_off(child.name, reason, child.lines.recent, restarts):
                return
            await child.stop(grace_s=_HUNG_GRACE_S, hurry=asyncio.Event())
            await child.start()
            self.registry.add(record(child.name, child.pid))
            self._restarted(child.name, child.pid, restarts)

    async def keep_server(self, server: Server) -> None:
        restarts = Restarts(self.policy)
        while True:
            while (code := server.proc.poll()) is None:
                await asyncio.sleep(0.5)
            await asyncio.sleep(0.3)  # let the tail catch the server's last words
            reason = f"exited with code {code}"
            if not await self._back_off(server.name, reason, server.lines.recent, restarts):
                return
            if await self._restart_server(server):
                self._restarted(server.name, server.proc.pid, restarts)

    async def _app_trouble(self, child: AppChild, health_url: str, *, answered: bool) -> str:
        """Wait until the app exits or its health check fails; why it needs a restart."""
        exited = asyncio.ensure_future(child.wait())
        hung = asyncio.ensure_future(self._unhealthy(health_url, answered=answered))
        try:
            await asyncio.wait({exited, hung}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (exited, hung):
                task.cancel()
            await asyncio.gather(exited, hung, return_exceptions=True)
        if exited.done() and not exited.cancelled():
            return f"exited with code {exited.result()}"
        return hung.result()

    async def _unhealthy(self, url: str, *, answered: bool) -> str:
        """Returns once ``url`` has failed too often: before the first answer, or in a row."""
        started, misses, last = time.monotonic(), 0, ""
        async with httpx.AsyncClient(timeout=_HEALTH_TIMEOUT_S, trust_env=False) as client:
            while True:
                await asyncio.sleep(self.policy.health_interval_s)
                try:
                    status = (await client.get(url)).status_code
                    last = f"status {status}"
                except httpx.HTTPError as exc:
                    status, last = 0, type(exc).__name__
                if status == 200:
                    answered, misses = True, 0
                    continue
                misses += 1
                if answered and misses >= self.policy.health_failures:
                    return f"stopped answering its health check ({misses} times: {last})"
                if not answered and time.monotonic() - started > self.start_timeout_s:
                    return f"not healthy {self.start_timeout_s:.0f} s after its start ({last})"

    async def _back_off(
        self, name: str, reason: str, lines: Iterable[str], restarts: Restarts
    ) -> bool:
        """Say why ``name`` stopped and wait out its back-off; False once it is given up."""
        shown = list(lines)[-_SHOWN_LINES:]
        delay = restarts.delay(time.monotonic())
        if delay is None:
            headline = (
                f"{reason}; restarted {restarts.count} times in {self.policy.window_s:.0f} s, "
                "so it is NOT restarted again (the rest keeps running; see its log, "
                "then restart the stack)"
            )
            self.console.failure(name, headline, shown)
            return False
        self.console.failure(name, f"{reason}; restarting it in {delay:g} s", shown)
        await asyncio.sleep(delay)
        restarts.record(time.monotonic())
        return True

    def _restarted(self, name: str, pid: int, restarts: Restarts) -> None:
        window = f"{self.policy.window_s:.0f} s"
        counted = f"restart {restarts.count} of at most {self.policy.limit} in {window}"
        self.console.progress(name, f"restarted (pid {pid}; {counted})", ok=True)

    async def _restart_server(self, server: Server) -> bool:
        """Start ``server`` again on its port; False (and it is stopped) when it cannot."""
        old, port = server.proc.pid, server.handle.port
        # A killed postmaster's backends would keep its shared memory: end its whole group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(old, signal.SIGKILL)
        starting = asyncio.ensure_future(asyncio.to_thread(server.handle.start))
        try:
            await asyncio.shield(starting)  # a start under way finishes, so it can be stopped
            self.registry.add(server.record())
            if server.handle.port != port:
                raise RuntimeError(f"port {port} was taken; its clients could not follow")
            if isinstance(server.handle, EmbeddedNats):
                await _jetstream_ready(server.handle, server)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await starting
                self.registry.add(server.record())  # so the shutdown that follows ends it
            raise
        except Exception as exc:
            self.console.failure(server.name, f"did not start again: {exc}")
            await asyncio.to_thread(server.handle.kill)
            return False
        return True
