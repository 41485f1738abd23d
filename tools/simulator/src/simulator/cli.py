"""``postloan-simulator``: play a simulated portfolio through a running platform.

    postloan-simulator --url http://127.0.0.1:8000 --username admin --password ... \\
        --loans 3000 --months 6 --seed 42 [--start 2026-01-01]

The password defaults to ``POSTLOAN_ADMIN_PASSWORD``. Exit status 0 when the plan was played,
1 when the platform refused a call.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import date

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from simulator import TIMEOUT_S, demo_start, seed_demo_async
from simulator.driver import SimulationError, login


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(stderr=True)
    password = args.password or os.environ.get("POSTLOAN_ADMIN_PASSWORD")
    if not password:
        console.print("[red]no password:[/] pass --password or set POSTLOAN_ADMIN_PASSWORD")
        return 2
    try:
        counts = asyncio.run(_run(args, password, console))
    except (SimulationError, httpx.HTTPError) as exc:
        console.print(f"[red]simulation stopped:[/] {exc}")
        return 1
    console.print(
        f"[green]done:[/] {counts['loans']:,} loans, {counts['payments']:,} payments, "
        f"{counts['bureau_reports']:,} bureau reports, {counts['eod']:,} end-of-day runs"
    )
    return 0


async def _run(args: argparse.Namespace, password: str, console: Console) -> dict[str, int]:
    async with httpx.AsyncClient(base_url=args.url, timeout=TIMEOUT_S) as client:
        token = await login(client, args.username, password)
    columns = (TextColumn("simulating days"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("days", total=None)
        return await seed_demo_async(
            args.url,
            token,
            loans=args.loans,
            months=args.months,
            seed=args.seed,
            start=args.start or demo_start(args.months),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="postloan-simulator", description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the gateway")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", help="default: POSTLOAN_ADMIN_PASSWORD")
    parser.add_argument("--loans", type=int, default=3000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--start", type=date.fromisoformat, help="first day (YYYY-MM-DD)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
