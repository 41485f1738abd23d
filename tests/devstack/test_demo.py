"""The demo portfolio's seeding: when it runs, and how the hook reports, against stand-ins."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from devstack.config import ConfigError
from devstack.console import Console
from devstack.demo import (
    DEFAULT_LOANS,
    DEFAULT_MONTHS,
    Action,
    DayBar,
    DemoPlan,
    DemoSeeder,
    DemoSettings,
    admin_password,
    clock_time,
    decide,
    render_bar,
)
from devstack.stack import StackInfo
from simulator import SimulationError, demo_start, make_plan

TODAY = date(2026, 11, 28)
PASSWORD = "s3cret-admin"


# --- settings: DEMO, DEMO_LOANS, DEMO_MONTHS, --no-demo -----------------------------------


def test_by_default_the_demo_is_seeded_with_the_default_size() -> None:
    settings = DemoSettings.from_env({})

    assert settings.enabled
    assert (settings.loans, settings.months) == (DEFAULT_LOANS, DEFAULT_MONTHS)


@pytest.mark.parametrize("raw", ["0", "false", "No", "OFF", " 0 "])
def test_demo_0_skips_it_and_says_so(raw: str) -> None:
    settings = DemoSettings.from_env({"DEMO": raw})

    assert not settings.enabled
    assert settings.skipped_by == f"DEMO={raw}"


@pytest.mark.parametrize("raw", ["", "1", "true", "yes", "on"])
def test_demo_1_or_empty_seeds_it(raw: str) -> None:
    assert DemoSettings.from_env({"DEMO": raw}).enabled


def test_the_no_demo_flag_skips_it_whatever_demo_says() -> None:
    settings = DemoSettings.from_env({"DEMO": "1"}, no_demo=True)

    assert not settings.enabled
    assert settings.skipped_by == "--no-demo"


def test_the_size_comes_from_demo_loans_and_demo_months() -> None:
    settings = DemoSettings.from_env({"DEMO_LOANS": "20", "DEMO_MONTHS": "1"})

    assert (settings.loans, settings.months) == (20, 1)
    assert DemoSettings.from_env({"DEMO_LOANS": "3_000"}).loans == 3000


def test_demo_start_fixes_the_first_day_and_unset_leaves_it_to_the_calendar() -> None:
    assert DemoSettings.from_env({"DEMO_START": "2026-11-01"}).start == date(2026, 11, 1)
    assert DemoSettings.from_env({}).start is None


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DEMO": "maybe"}, "DEMO"),
        ({"DEMO_LOANS": "many"}, "DEMO_LOANS"),
        ({"DEMO_LOANS": "0"}, "DEMO_LOANS"),
        ({"DEMO_MONTHS": "-1"}, "DEMO_MONTHS"),
        ({"DEMO_MONTHS": "1000"}, "DEMO_MONTHS"),
        ({"DEMO_START": "2026-13-01"}, "DEMO_START"),
        ({"DEMO_START": "last month"}, "DEMO_START"),
    ],
)
def test_a_bad_setting_is_refused_by_name(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        DemoSettings.from_env(env)


# --- the decision ---------------------------------------------------------------------------

SETTINGS = DemoSettings(loans=20, months=1)


def kept_plan(*, finished: bool = False, seed: int = 42) -> DemoPlan:
    return DemoPlan(loans=20, months=1, seed=seed, start=date(2026, 10, 1), finished=finished)


@pytest.mark.parametrize(
    ("today", "months", "start", "days"),
    [
        (date(2026, 11, 28), 1, date(2026, 10, 1), 31),  # after a 31-day month
        (date(2026, 12, 7), 1, date(2026, 11, 1), 30),  # after a 30-day month
        (date(2026, 12, 1), 1, date(2026, 11, 1), 30),  # on the first of the month
        (date(2027, 1, 5), 1, date(2026, 12, 1), 31),  # across the turn of the year
        (date(2027, 3, 31), 1, date(2027, 2, 1), 28),  # after February
        (date(2028, 3, 1), 1, date(2028, 2, 1), 29),  # after a leap February
        (date(2027, 2, 10), 6, date(2026, 8, 1), 184),  # six months over the year's end
    ],
)
def test_an_empty_platform_is_seeded_with_history_ending_about_today(
    today: date, months: int, start: date, days: int
) -> None:
    settings = DemoSettings(loans=20, months=months)

    decision = decide(settings, first_loan_id=None, kept=None, today=today)

    assert decision.action is Action.SEED
    assert decision.plan == DemoPlan(20, months, 42, demo_start(months, today))
    assert decision.plan.start == start
    assert decision.plan.days == days


@pytest.mark.parametrize("today", [date(2026, 11, 28), date(2026, 12, 7), date(2027, 1, 5)])
def test_demo_start_seeds_the_same_plan_whatever_the_day(today: date) -> None:
    settings = DemoSettings(loans=20, months=1, start=date(2026, 11, 1))

    decision = decide(settings, first_loan_id=None, kept=None, today=today)

    assert decision.plan == DemoPlan(20, 1, 42, date(2026, 11, 1))
    assert decision.plan.days == 30


def test_a_platform_with_loans_of_its_own_is_left_alone() -> None:
    decision = decide(SETTINGS, first_loan_id="L-0001", kept=None, today=TODAY)

    assert decision.action is Action.SKIP
    assert "already has loans" in decision.reason


def test_demo_0_skips_before_anything_is_asked() -> None:
    disabled = DemoSettings(enabled=False, skipped_by="DEMO=0")

    decision = decide(disabled, first_loan_id=None, kept=None, today=TODAY)

    assert decision.action is Action.SKIP
    assert decision.reason == "no demo portfolio (DEMO=0)"


def test_a_demo_stopped_half_way_goes_on_with_the_plan_it_started() -> None:
    kept = kept_plan()
    bigger = DemoSettings(loans=5000, months=6)

    decision = decide(bigger, first_loan_id=kept.first_loan_id, kept=kept, today=date(2027, 1, 5))

    assert decision.action is Action.RESUME
    assert decision.plan == kept  # the same start, size and seed: the same plan


def test_a_finished_demo_is_not_played_again() -> None:
    kept = kept_plan(finished=True)

    decision = decide(SETTINGS, first_loan_id=kept.first_loan_id, kept=kept, today=TODAY)

    assert decision.action is Action.SKIP


def test_an_unfinished_demo_note_does_not_touch_loans_that_are_not_its_own() -> None:
    decision = decide(SETTINGS, first_loan_id="L-0001", kept=kept_plan(), today=TODAY)

    assert decision.action is Action.SKIP


def test_an_emptied_platform_is_seeded_afresh_whatever_the_note_says() -> None:
    decision = decide(SETTINGS, first_loan_id=None, kept=kept_plan(finished=True), today=TODAY)

    assert decision.action is Action.SEED


def test_the_first_loan_id_is_the_lowest_id_of_the_simulators_plan() -> None:
    kept = kept_plan()
    plan = make_plan(loans=20, months=1, seed=42, start=kept.start)

    assert kept.first_loan_id == min(loan.loan_id for loan in plan.loans)
    assert plan.loans[0].disbursed_on == plan.start  # registered on the plan's first day


def test_the_plan_note_survives_a_round_trip_and_a_bad_note_is_none(tmp_path: Path) -> None:
    path = tmp_path / "demo.json"
    kept_plan(finished=True).save(path)

    assert DemoPlan.load(path) == kept_plan(finished=True)
    path.write_text("{not json")
    assert DemoPlan.load(path) is None
    assert DemoPlan.load(tmp_path / "missing.json") is None


def test_the_admin_password_comes_from_the_environment_then_the_state_folder(
    tmp_path: Path,
) -> None:
    assert admin_password({}, tmp_path) is None
    (tmp_path / "admin-password").write_text("generated\n")
    assert admin_password({}, tmp_path) == "generated"
    assert admin_password({"POSTLOAN_ADMIN_PASSWORD": "given"}, tmp_path) == "given"


# --- the progress bar -----------------------------------------------------------------------


def test_the_bar_shows_days_share_and_time_left() -> None:
    assert render_bar(0, 10, None, width=10) == "╸───────── 0/10 days  0%"
    assert render_bar(5, 10, 75.4, width=10) == "━━━━━╸──── 5/10 days  50%  1:15 left"
    assert render_bar(10, 10, 0, width=10) == "━━━━━━━━━━ 10/10 days  100%  0:00 left"
    assert clock_time(3725) == "1:02:05"


class Ticks:
    """A clock that moves one second per reading."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_without_a_terminal_progress_is_a_line_per_tenth() -> None:
    out = io.StringIO()
    bar = DayBar(Console(out), 20, clock=Ticks())

    for day in range(1, 21):
        bar.update(day, 20)
    bar.close()

    lines = out.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0].startswith("demo        | … day 2/20 (10%), about ")
    assert lines[-1] == "demo        | … day 20/20 (100%)"


def test_on_a_terminal_progress_is_a_status_line_redrawn_below_the_logs() -> None:
    out = io.StringIO()
    console = Console(out, interactive=True)
    console.live = True
    bar = DayBar(console, 4, clock=Ticks(), width=4)

    bar.update(1, 4)
    console.log("monitoring", "end of day 2026-10-01")
    bar.update(2, 4)
    bar.close()

    text = out.getvalue()
    assert text.count("\n") == 1  # only the log line ends a line
    assert "\r\x1b[2Kmonitoring  | end of day 2026-10-01\ndemo        | ━╸── 1/4 days" in text
    assert "\r\x1b[2Kdemo        | ━━╸─ 2/4 days  50%" in text
    assert text.endswith("\r\x1b[2K")  # closed: the status line is gone


def test_a_resumed_plan_counts_the_days_already_played() -> None:
    out = io.StringIO()
    bar = DayBar(Console(out), 100, clock=Ticks())

    bar.update(1, 40)  # the simulator counts the 40 days it still has to play

    assert bar.done == 61


# --- the hook, against a stand-in gateway and simulator --------------------------------------


@dataclass
class Gateway:
    """Answers the two calls the hook makes itself: log in, and the first loan."""

    loans: list[str] = field(default_factory=list)
    password: str = PASSWORD
    logins: int = 0
    calls: list[str] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.path}")
        if request.url.path == "/api/v1/auth/token":
            form = parse_qs(request.content.decode())
            if form != {"username": ["admin"], "password": [self.password]}:
                return httpx.Response(401, json={"title": "wrong username or password"})
            self.logins += 1
            return httpx.Response(200, json={"access_token": f"token-{self.logins}"})
        if request.url.path == "/api/v1/loans":
            assert request.headers["Authorization"].startswith("Bearer token-")
            assert request.url.params["limit"] == "1"
            items = [{"loan_id": loan} for loan in self.loans[:1]]
            return httpx.Response(200, json={"items": items, "next_cursor": None})
        return httpx.Response(404)


@dataclass
class Simulator:
    """Stands in for ``seed_demo_async``: plays ``days`` days, or fails as told."""

    fail: list[Exception] = field(default_factory=list)
    hang_after: int | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(
        self,
        gateway_url: str,
        token: str,
        *,
        loans: int,
        months: int,
        seed: int,
        start: date | None,
        progress: Callable[[int, int], None] | None,
    ) -> dict[str, int]:
        self.calls.append({"token": token, "loans": loans, "months": months, "start": start})
        assert start is not None
        assert progress is not None
        days = DemoPlan(loans, months, seed, start).days
        for day in range(1, days + 1):
            if self.hang_after is not None and day > self.hang_after:
                await asyncio.Event().wait()
            if self.fail:
                raise self.fail.pop(0)
            progress(day, days)
        return {"loans": loans, "payments": 7, "bureau_reports": 3, "eod": days}


def stack_info(state: Path) -> StackInfo:
    return StackInfo(
        gateway_url="http://gateway.test",
        service_urls={},
        nats_url="nats://nats.test:4222",
        database_urls={},
        state_dir=state,
    )


def seeder(
    tmp_path: Path,
    gateway: Gateway,
    simulator: Simulator,
    *,
    settings: DemoSettings = SETTINGS,
    env: dict[str, str] | None = None,
) -> tuple[DemoSeeder, io.StringIO]:
    out = io.StringIO()
    hook = DemoSeeder(
        settings,
        {"POSTLOAN_ADMIN_PASSWORD": PASSWORD} if env is None else env,
        Console(out),
        play=simulator,
        transport=httpx.MockTransport(gateway.handle),
        today=lambda: TODAY,
    )
    return hook, out


async def test_an_empty_platform_gets_the_demo_and_a_closing_line(tmp_path: Path) -> None:
    gateway, simulator = Gateway(), Simulator()
    hook, out = seeder(tmp_path, gateway, simulator)

    await hook(stack_info(tmp_path))

    assert hook.outcome is Action.SEED
    assert simulator.calls == [
        {"token": "token-1", "loans": 20, "months": 1, "start": date(2026, 10, 1)}
    ]
    text = out.getvalue()
    assert "… seeding a demo portfolio (monitoring has no loan yet): 20 loans, 1 month from" in text
    assert "day 31/31 (100%)" in text
    assert "demo        | ✔ demo portfolio: 20 loans, 31 days simulated (in 0:00)" in text
    assert json.loads((tmp_path / "demo.json").read_text())["finished"] is True


async def test_the_generated_admin_password_is_read_from_the_state_folder(tmp_path: Path) -> None:
    (tmp_path / "admin-password").write_text(PASSWORD + "\n")
    simulator = Simulator()
    hook, _ = seeder(tmp_path, Gateway(), simulator, env={})

    await hook(stack_info(tmp_path))

    assert hook.outcome is Action.SEED
    assert len(simulator.calls) == 1


async def test_a_platform_with_loans_is_not_seeded(tmp_path: Path) -> None:
    simulator = Simulator()
    hook, out = seeder(tmp_path, Gateway(loans=["L-0001"]), simulator)

    await hook(stack_info(tmp_path))

    assert hook.outcome is Action.SKIP
    assert simulator.calls == []
    skipped = "demo        | … monitoring already has loans: no demo portfolio seeded"
    assert skipped in out.getvalue()
    assert not (tmp_path / "demo.json").exists()


async def test_demo_0_asks_nothing_of_the_platform(tmp_path: Path) -> None:
    gateway, simulator = Gateway(), Simulator()
    disabled = DemoSettings.from_env({"DEMO": "0"})
    hook, out = seeder(tmp_path, gateway, simulator, settings=disabled)

    await hook(stack_info(tmp_path))

    assert gateway.calls == []
    assert simulator.calls == []
    assert out.getvalue() == "demo        | … no demo portfolio (DEMO=0)\n"


async def test_a_refused_call_is_reported_loudly_and_the_hook_returns(tmp_path: Path) -> None:
    simulator = Simulator(fail=[SimulationError("POST /api/v1/loans: 422 bad", status=422)])
    hook, out = seeder(tmp_path, Gateway(), simulator)

    await hook(stack_info(tmp_path))  # does not raise: the stack keeps running

    text = out.getvalue()
    assert "✖ demo: seeding the demo portfolio failed: POST /api/v1/loans: 422 bad" in text
    assert "the platform keeps running; the next run goes on where the seeding stopped" in text
    assert json.loads((tmp_path / "demo.json").read_text())["finished"] is False


async def test_an_expired_token_is_renewed_and_the_plan_goes_on(tmp_path: Path) -> None:
    expired = SimulationError("POST /api/v1/payments: 401 expired", status=401)
    gateway, simulator = Gateway(), Simulator(fail=[expired])
    hook, out = seeder(tmp_path, gateway, simulator)

    await hook(stack_info(tmp_path))

    assert [c["token"] for c in simulator.calls] == ["token-1", "token-2"]
    assert "✔ demo portfolio: 20 loans, 31 days simulated" in out.getvalue()


async def test_a_wrong_password_or_none_at_all_is_reported_loudly(tmp_path: Path) -> None:
    wrong, out = seeder(tmp_path, Gateway(password="other"), Simulator())
    await wrong(stack_info(tmp_path))
    assert "✖ demo: seeding the demo portfolio failed: log in: 401" in out.getvalue()

    missing, out = seeder(tmp_path, Gateway(), Simulator(), env={})
    await missing(stack_info(tmp_path))
    assert "no password for user admin: set POSTLOAN_ADMIN_PASSWORD" in out.getvalue()


async def test_an_unreachable_gateway_is_reported_loudly(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    out = io.StringIO()
    hook = DemoSeeder(
        SETTINGS,
        {"POSTLOAN_ADMIN_PASSWORD": PASSWORD},
        Console(out),
        play=Simulator(),
        transport=httpx.MockTransport(refuse),
    )

    await hook(stack_info(tmp_path))

    assert "✖ demo: seeding the demo portfolio failed: ConnectError: connection refused" in (
        out.getvalue()
    )


async def test_a_stop_during_seeding_cancels_it_and_says_where_it_stopped(tmp_path: Path) -> None:
    hook, out = seeder(tmp_path, Gateway(), Simulator(hang_after=5))
    task = asyncio.ensure_future(hook(stack_info(tmp_path)))
    while "day 4/31" not in out.getvalue():
        await asyncio.sleep(0.01)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert "seeding stopped at day 5/31; the next run goes on from there" in out.getvalue()
    assert DemoPlan.load(tmp_path / "demo.json") == DemoPlan(20, 1, 42, date(2026, 10, 1))
