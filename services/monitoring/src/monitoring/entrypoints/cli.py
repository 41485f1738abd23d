"""``postloan-monitoring``: monitoring's command line (bulk import of a portfolio).

    postloan-monitoring import [--database-url URL] LOANS_FILE [--payments FILE] [--format F]

The database URL defaults to ``POSTLOAN_DATABASE_URL`` (monitoring's settings). Exit status:
0 imported, 1 rejected (row errors printed, nothing stored), 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from monitoring.service_layer.bulk_import import import_portfolio
from monitoring.service_layer.import_files import Format, format_of
from monitoring.service_layer.import_report import ImportRejected, ImportReport
from monitoring.settings import MonitoringSettings
from shared.db import Database, sqlalchemy_async_url

SHOWN_ERRORS = 50


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command != "import":
        _parser().print_help()
        return 2
    console = Console(stderr=True)
    fmt = Format(args.format) if args.format else format_of(args.file.name)
    if fmt is None:
        console.print("[red]unknown format:[/] name the file .ndjson/.jsonl/.csv or use --format")
        return 2
    url = sqlalchemy_async_url(args.database_url or MonitoringSettings().database_url)
    report = asyncio.run(_import(url, args.file, args.payments, fmt, console))
    _print(report, console)
    return 0 if report.status == "imported" else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="postloan-monitoring", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="import loans, schedules and payments from a file")
    imp.add_argument("file", type=Path, help="loans: .ndjson/.jsonl or .csv")
    imp.add_argument("--payments", type=Path, help="payments CSV (payment history)")
    imp.add_argument("--format", choices=[f.value for f in Format], help="default: by extension")
    imp.add_argument("--database-url", help="monitoring's database (default: settings)")
    return parser


async def _import(
    url: str, path: Path, payments: Path | None, fmt: Format, console: Console
) -> ImportReport:
    db = Database(url, pool_size=1)
    columns = (TextColumn("importing"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    try:
        with ExitStack() as files, Progress(*columns, console=console) as bar:
            task = bar.add_task("import", total=path.stat().st_size)
            loans: IO[bytes] = files.enter_context(path.open("rb"))
            paid = files.enter_context(payments.open("rb")) if payments else None
            try:
                async with db.unit_of_work() as session:
                    return await import_portfolio(
                        session,
                        loans,
                        fmt=fmt,
                        payments=paid,
                        progress=lambda done: bar.update(task, completed=done),
                    )
            except ImportRejected as rejected:
                return rejected.report
    finally:
        await db.dispose()


def _print(report: ImportReport, console: Console) -> None:
    body = report.as_dict()
    if report.status == "imported":
        console.print(
            f"[green]imported[/] {body['loans']:,} loans, {body['instalments']:,} instalments, "
            f"{body['payments']:,} payments, {body['borrowers']:,} borrowers "
            f"in {body['seconds']:.1f} s"
        )
        return
    table = Table("file", "row", "field", "reason", title="rows refused")
    for e in report.errors[:SHOWN_ERRORS]:
        table.add_row(e.file, str(e.row), e.field, e.reason)
    console.print(table)
    more = report.error_count - min(SHOWN_ERRORS, len(report.errors))
    console.print(
        f"[red]rejected:[/] {report.error_count:,} row errors"
        + (f" ({more:,} not shown)" if more > 0 else "")
        + "; nothing was imported"
    )


if __name__ == "__main__":
    sys.exit(main())
