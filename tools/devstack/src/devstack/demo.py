"""The demo portfolio: played through the simulator once the stack is ready, on an empty platform.

``postloan-stack run`` (``make run``) seeds a simulated portfolio through the gateway, as a
lender's systems would, unless ``DEMO=0`` or ``--no-demo``; and only when monitoring has no loan
yet, so a platform holding data of its own is never touched. The plan played is kept in
``<state>/demo.json``: a seeding stopped half-way (Ctrl-C, a failure) goes on where it stopped
on the next run, since every call of the simulator is idempotent.

A failure is reported loudly and the stack keeps running: the platform is usable without a demo.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import httpx

from devstack.config import ConfigError
from devstack.console import Console
from devstack.stack import StackInfo
from simulator import demo_start, make_plan, seed_demo_async
from simulator.contract import add_months
from simulator.driver import SimulationError, login

#: About 4.5 minutes on two cores (3,000 loans took 9; 500, 2.3); the stack is usable meanwhile.
DEFAULT_LOANS = 1000
DEFAULT_MONTHS = 6
DEMO_SEED = 42
MAX_LOANS = 1_000_000
MAX_MONTHS = 120
ADMIN = "admin"
NAME = "demo"
#: Gateway tokens last 15 minutes by default; a longer seeding logs in again this many times.
RELOGINS = 20
_OFF = {"0", "false", "no", "off"}
_ON = {"", "1", "true", "yes", "on"}


class DemoFailed(RuntimeError):
    """The demo cannot be seeded (no password, an unexpected answer)."""


@dataclass(frozen=True)
class DemoSettings:
    """Whether and what to seed, from ``DEMO``, ``DEMO_LOANS``, ``DEMO_MONTHS``, ``DEMO_START``
    and ``--no-demo``.

    ``start`` is the demo's first day; None (the default) starts it on the first of the month
    ``months`` months before today, so its history ends about today.
    """

    enabled: bool = True
    loans: int = DEFAULT_LOANS
    months: int = DEFAULT_MONTHS
    seed: int = DEMO_SEED
    skipped_by: str = ""
    start: date | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, no_demo: bool = False) -> DemoSettings:
        raw = env.get("DEMO", "")
        switch = raw.strip().lower()
        if switch not in _ON | _OFF:
            raise ConfigError(f"DEMO must be 1 (seed a demo portfolio) or 0 (skip), not {raw!r}")
        loans = _count(env, "DEMO_LOANS", DEFAULT_LOANS, MAX_LOANS)
        months = _count(env, "DEMO_MONTHS", DEFAULT_MONTHS, MAX_MONTHS)
        skipped_by = "--no-demo" if no_demo else f"DEMO={raw}" if switch in _OFF else ""
        return cls(
            enabled=not skipped_by,
            loans=loans,
            months=months,
            skipped_by=skipped_by,
            start=_day(env, "DEMO_START"),
        )


def _day(env: Mapping[str, str], variable: str) -> date | None:
    raw = env.get(variable, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"{variable} must be a date (YYYY-MM-DD), not {raw!r}") from None


def _count(env: Mapping[str, str], variable: str, default: int, maximum: int) -> int:
    raw = env.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise ConfigError(f"{variable} must be a whole number, not {raw!r}") from None
    if not 1 <= value <= maximum:
        raise ConfigError(f"{variable} must be between 1 and {maximum:,}, not {value}")
    return value


@dataclass(frozen=True)
class DemoPlan:
    """A demo plan started on a state folder: what it takes to play the very same plan again."""

    loans: int
    months: int
    seed: int
    start: date
    finished: bool = False

    @property
    def first_loan_id(self) -> str:
        """The id of the plan's first loan, the lowest of its ids, registered on its first day."""
        first = make_plan(loans=1, months=self.months, seed=self.seed, start=self.start)
        return first.loans[0].loan_id

    @property
    def days(self) -> int:
        """How many days the plan simulates (one end of day each)."""
        return (add_months(self.start, self.months) - self.start).days

    def save(self, path: Path) -> None:
        body = {**asdict(self), "start": self.start.isoformat()}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=2) + "\n")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> DemoPlan | None:
        """The plan kept in ``path``; None when there is none (or it cannot be read)."""
        try:
            raw: dict[str, Any] = json.loads(path.read_text())
            return cls(
                loans=int(raw["loans"]),
                months=int(raw["months"]),
                seed=int(raw["seed"]),
                start=date.fromisoformat(raw["start"]),
                finished=bool(raw.get("finished", False)),
            )
        except (OSError, ValueError, TypeError, KeyError):
            return None


class Action(StrEnum):
    SEED = "seed"
    RESUME = "resume"
    SKIP = "skip"


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    plan: DemoPlan | None = None


def decide(
    settings: DemoSettings, *, first_loan_id: str | None, kept: DemoPlan | None, today: date
) -> Decision:
    """Seed on an empty platform; go on with an unfinished demo of this folder; else leave it.

    ``first_loan_id`` is the platform's lowest loan id (None: no loan); ``kept`` the plan in
    the state folder. A platform whose loans are not that plan's is never touched.
    """
    if not settings.enabled:
        return Decision(Action.SKIP, f"no demo portfolio ({settings.skipped_by})")
    if first_loan_id is None:
        start = settings.start or demo_start(settings.months, today)
        plan = DemoPlan(settings.loans, settings.months, settings.seed, start)
        return Decision(Action.SEED, "monitoring has no loan yet", plan)
    if kept is not None and not kept.finished and first_loan_id == kept.first_loan_id:
        return Decision(Action.RESUME, "going on with the demo portfolio stopped half-way", kept)
    return Decision(Action.SKIP, "monitoring already has loans: no demo portfolio seeded")


def admin_password(env: Mapping[str, str], state_dir: Path) -> str | None:
    """``POSTLOAN_ADMIN_PASSWORD``, else the one the gateway generated into the state folder."""
    if given := env.get("POSTLOAN_ADMIN_PASSWORD"):
        return given
    try:
        kept = (state_dir / "admin-password").read_text().strip()
    except OSError:
        return None
    return kept or None


async def first_loan_id(client: httpx.AsyncClient, token: str) -> str | None:
    """The lowest loan id monitoring holds (``GET /api/v1/loans?limit=1``), None if it has none."""
    response = await client.get(
        "/api/v1/loans", params={"limit": 1}, headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code != 200:
        raise DemoFailed(f"GET /api/v1/loans: {response.status_code} {response.text[:300]}")
    items: list[dict[str, Any]] = response.json()["items"]
    return str(items[0]["loan_id"]) if items else None


class Play(Protocol):
    """:func:`simulator.seed_demo_async`, or a stand-in in tests."""

    def __call__(
        self,
        gateway_url: str,
        token: str,
        *,
        loans: int,
        months: int,
        seed: int,
        start: date | None,
        progress: Callable[[int, int], None] | None,
    ) -> Awaitable[dict[str, int]]: ...


class DayBar:
    """Days simulated: a bar on the console's bottom line on a terminal, a line per 10 % else."""

    def __init__(
        self,
        console: Console,
        days: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        width: int = 24,
    ) -> None:
        self.console = console
        self.days = max(days, 1)
        self.done = 0
        self.clock = clock
        self.width = width
        self._started = clock()
        self._first: int | None = None
        self._tenths = 0

    def update(self, left_done: int, left_total: int) -> None:
        """The simulator's ``progress(done, total)``, counted over the days still to play."""
        self.done = min(self.days - left_total + left_done, self.days)
        if self._first is None:
            self._first = self.done - 1
            self._tenths = self._first * 10 // self.days
        eta = self._eta()
        if self.console.interactive:
            self.console.status(NAME, render_bar(self.done, self.days, eta, self.width))
        elif (tenths := self.done * 10 // self.days) > self._tenths:
            self._tenths = tenths
            left = f", about {clock_time(eta)} left" if eta is not None and eta >= 1 else ""
            self.console.progress(NAME, f"day {self.done}/{self.days} ({tenths * 10}%){left}")

    def close(self) -> None:
        self.console.clear_status()

    def _eta(self) -> float | None:
        played = self.done - (self._first or 0)
        if played <= 0:
            return None
        return (self.clock() - self._started) / played * (self.days - self.done)


def render_bar(done: int, total: int, eta_s: float | None, width: int = 24) -> str:
    """``━━━━━━╸────── 45/181 days  25%  2:10 left``."""
    share = done / total if total else 1.0
    full = int(share * width)
    bar = "━" * full + ("╸" if full < width else "") + "─" * max(width - full - 1, 0)
    left = f"  {clock_time(eta_s)} left" if eta_s is not None else ""
    return f"{bar} {done}/{total} days  {share:.0%}{left}"


def clock_time(seconds: float) -> str:
    """``75.4`` → ``1:15``; ``3725`` → ``1:02:05``."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class DemoSeeder:
    """The ready hook that seeds the demo portfolio (see the module's docstring)."""

    def __init__(
        self,
        settings: DemoSettings,
        env: Mapping[str, str],
        console: Console,
        *,
        play: Play = seed_demo_async,
        transport: httpx.AsyncBaseTransport | None = None,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.settings = settings
        self.env = env
        self.console = console
        self.play = play
        self.transport = transport
        self.today = today
        self.outcome: Action | None = None

    async def __call__(self, info: StackInfo) -> None:
        if not self.settings.enabled:
            self.outcome = Action.SKIP
            self.console.progress(NAME, f"no demo portfolio ({self.settings.skipped_by})")
            return
        try:
            await self._seed(info)
        except Exception as exc:  # the platform is usable without a demo: report, keep running
            self.console.failure(NAME, f"seeding the demo portfolio failed: {_describe(exc)}")
            self.console.progress(
                NAME, "the platform keeps running; the next run goes on where the seeding stopped"
            )

    async def _seed(self, info: StackInfo) -> None:
        password = admin_password(self.env, info.state_dir)
        if password is None:
            raise DemoFailed(
                f"no password for user {ADMIN}: set POSTLOAN_ADMIN_PASSWORD "
                f"({info.state_dir / 'admin-password'} is missing)"
            )
        token = await self._login(info, password)
        async with self._client(info) as client:
            first = await first_loan_id(client, token)
        marker = info.state_dir / "demo.json"
        decision = decide(
            self.settings, first_loan_id=first, kept=DemoPlan.load(marker), today=self.today()
        )
        self.outcome = decision.action
        if decision.plan is None:
            self.console.progress(NAME, decision.reason)
            return
        plan = decision.plan
        plan.save(marker)
        verb = "seeding" if decision.action is Action.SEED else "going on seeding"
        self.console.progress(
            NAME,
            f"{verb} a demo portfolio ({decision.reason}): {plan.loans:,} loans, "
            f"{_plural(plan.months, 'month')} from {plan.start}; DEMO=0 skips",
        )
        started = time.monotonic()
        await self._play(info, plan, password, token)
        dataclasses.replace(plan, finished=True).save(marker)
        elapsed = clock_time(time.monotonic() - started)
        self.console.progress(
            NAME,
            f"demo portfolio: {_plural(plan.loans, 'loan')}, {_plural(plan.days, 'day')} "
            f"simulated (in {elapsed})",
            ok=True,
        )

    async def _play(self, info: StackInfo, plan: DemoPlan, password: str, token: str) -> None:
        """Play the plan, logging in again when the token expires (the plan goes on)."""
        bar = DayBar(self.console, plan.days)
        relogins = 0
        try:
            while True:
                try:
                    await self.play(
                        info.gateway_url,
                        token,
                        loans=plan.loans,
                        months=plan.months,
                        seed=plan.seed,
                        start=plan.start,
                        progress=bar.update,
                    )
                    return
                except SimulationError as exc:
                    relogins += 1
                    if exc.status != 401 or relogins > RELOGINS:
                        raise
                token = await self._login(info, password)
        except asyncio.CancelledError:
            bar.close()
            self.console.progress(
                NAME,
                f"seeding stopped at day {bar.done}/{bar.days}; the next run goes on from there",
            )
            raise
        finally:
            bar.close()

    async def _login(self, info: StackInfo, password: str) -> str:
        async with self._client(info) as client:
            return await login(client, ADMIN, password)

    def _client(self, info: StackInfo) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=info.gateway_url, timeout=30.0, trust_env=False, transport=self.transport
        )


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _describe(exc: Exception) -> str:
    if isinstance(exc, SimulationError | DemoFailed):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
