"""``postloan-audit``: checks the gateway's audit chain straight in its database.

    postloan-audit verify [--database-url URL] [--heads FILE ...] [--anchor SEQUENCE:HASH ...]

The database URL defaults to ``POSTLOAN_DATABASE_URL`` (the gateway's settings). ``--heads``
takes files of exported heads (``audit-heads.jsonl``): each head must still be in the chain
with its hash, which catches a rewrite of the whole table. Exit status: 0 the chain holds,
1 it breaks (the first broken entry is printed), 2 bad usage or unreadable heads.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from gateway.domain.audit import Anchor, parse_anchor
from gateway.service_layer.audit import Verdict, verify_log
from gateway.service_layer.audit_export import exported_heads
from gateway.settings import GatewaySettings
from shared.db import Database, sqlalchemy_async_url


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        anchors = [parse_anchor(a) for a in args.anchor]
        for path in args.heads:
            anchors += exported_heads(path)
    except (OSError, ValueError) as exc:
        print(f"postloan-audit: {exc}", file=sys.stderr)
        return 2
    url = args.database_url or GatewaySettings().database_url
    verdict = asyncio.run(_verify(sqlalchemy_async_url(url), anchors))
    print(json.dumps(_report(verdict, len(anchors)), indent=2))
    return 0 if verdict.ok else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="postloan-audit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", help="verify the audit chain; print the first break")
    check.add_argument("--database-url", help="the gateway's database (default: settings)")
    check.add_argument("--heads", type=Path, action="append", default=[], help="heads file")
    check.add_argument("--anchor", action="append", default=[], help="SEQUENCE:HASH")
    return parser


async def _verify(url: str, anchors: list[Anchor]) -> Verdict:
    db = Database(url, pool_size=1)
    try:
        return await verify_log(db, anchors)
    finally:
        await db.dispose()


def _report(verdict: Verdict, anchors: int) -> dict[str, object]:
    broken = verdict.broken
    return {
        "ok": verdict.ok,
        "checked": verdict.checked,
        "anchors": anchors,
        "head": {"sequence": verdict.head.sequence, "hash": verdict.head.hash},
        "broken": None
        if broken is None
        else {"sequence": broken.sequence, "reason": broken.reason.value, "detail": broken.detail},
    }
