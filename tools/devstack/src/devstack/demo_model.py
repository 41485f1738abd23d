"""The demo's scoring model: trained on the demo portfolio's own history, then made champion.

Runs after the demo seeding when scoring has no champion yet: ``postloan-scoring train
--dataset platform`` on scoring's database (with a target the demo's few months can show:
30+ DPD within 2 months, the last observation month out of time), then ``postloan-scoring
publish --promote`` through the gateway, which rescores every open loan. Both are the commands
a risk team would run; their output is shown. The model folder is kept in
``<state>/models/``. A failure is reported and the stack keeps running (scores answer 409
until a champion is promoted).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from datetime import date

import httpx

from devstack.console import Console
from devstack.demo import ADMIN, DemoSettings, admin_password
from devstack.stack import StackInfo
from simulator.driver import login

NAME = "scoring"
#: What the demo's six months can show: observations need their whole horizon behind them.
DEMO_TARGET = ("--dpd-threshold", "30", "--horizon-months", "2", "--validation-months", "1")
#: Month ends with a whole 2-month horizon known: development ones and one out of time.
MIN_MONTHS = 5


class DemoModel:
    """The ready hook that trains and promotes the demo's model (see the module's docstring)."""

    def __init__(
        self, settings: DemoSettings, env: Mapping[str, str], console: Console, today: date
    ) -> None:
        self.settings = settings
        self.env = env
        self.console = console
        self.version = f"demo-bscore-{today:%Y%m%d}"

    async def __call__(self, info: StackInfo) -> None:
        if not self.settings.enabled:
            return
        try:
            await self._ensure(info)
        except Exception as exc:  # the platform is usable without scores: report, keep running
            self.console.failure(NAME, f"the demo model could not be made live: {exc}")

    async def _ensure(self, info: StackInfo) -> None:
        password = admin_password(self.env, info.state_dir)
        if password is None:
            return  # the seeding has already said why
        async with httpx.AsyncClient(base_url=info.gateway_url, timeout=60, trust_env=False) as c:
            token = await login(c, ADMIN, password)
            models = await c.get(
                "/api/v1/scoring/models", headers={"Authorization": f"Bearer {token}"}
            )
        models.raise_for_status()
        champion = [m["version"] for m in models.json()["items"] if m["status"] == "champion"]
        if champion:
            self.console.progress(NAME, f"champion model {champion[0]} is live", ok=True)
            return
        if self.settings.months < MIN_MONTHS:
            self.console.progress(
                NAME,
                f"no demo model: {self.settings.months} month(s) of history are too few to "
                f"train on (DEMO_MONTHS={MIN_MONTHS} or more); scores appear once a model is "
                "published (docs/scoring.md)",
            )
            return
        out = info.state_dir / "models"
        if not (out / self.version).exists():
            self.console.progress(NAME, f"training {self.version} on the demo portfolio")
            await self._command(
                "train", "--dataset", "platform", *DEMO_TARGET,
                "--database-url", info.database_urls["scoring"],
                "--out", str(out), "--version", self.version,
            )  # fmt: skip
        await self._command(
            "publish", str(out / self.version), "--url", info.gateway_url, "--promote",
            env={"POSTLOAN_TOKEN": token},
        )  # fmt: skip
        self.console.progress(NAME, f"champion model {self.version} is live", ok=True)

    async def _command(self, *args: str, env: Mapping[str, str] | None = None) -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "scoring.cli", *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
        assert process.stdout is not None
        try:
            async for line in process.stdout:
                self.console.progress(NAME, line.decode(errors="replace").rstrip())
            await process.wait()
        except asyncio.CancelledError:  # Ctrl-C: leave no process behind
            process.kill()
            await process.wait()
            raise
        if process.returncode != 0:
            raise RuntimeError(f"postloan-scoring {args[0]} exited with {process.returncode}")
