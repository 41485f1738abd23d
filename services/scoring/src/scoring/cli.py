"""``postloan-scoring``: scoring's command line.

``postloan-scoring train --dataset {german,gmsc} [--folds 5] [--seed 7] [--out DIR]
[--version NAME]`` trains the champion scorecard and the challenger, validates them and writes
``<out>/<version>/{champion.json, challenger.json, report.json, report.html}``. A data set is
a name in :data:`DATASETS` mapped to a loader that receives the parsed arguments, so a new
source (with arguments of its own) is one entry there.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scoring.domain.model import ScoreScale, TierCutoffs
from scoring.training.datasets import Dataset, load_german, load_gmsc

DatasetLoader = Callable[[argparse.Namespace], Dataset]
DATASETS: dict[str, DatasetLoader] = {
    "german": lambda _args: load_german(),
    "gmsc": lambda _args: load_gmsc(),
}
DEFAULT_FOLDS = 5
FILES = ("champion.json", "challenger.json", "report.json", "report.html")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="postloan-scoring", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = commands.add_parser("train", help="train, validate and export champion + challenger")
    train.add_argument("--dataset", required=True, choices=sorted(DATASETS))
    train.add_argument(
        "--folds",
        type=int,
        default=None,
        help=f"stratified CV folds (default {DEFAULT_FOLDS}; a data set with an out-of-time "
        "split is validated on it unless --folds is given)",
    )
    train.add_argument("--seed", type=int, default=7)
    train.add_argument("--out", type=Path, default=Path("models"))
    train.add_argument("--version", help="model version (default: <dataset>-<UTC time>)")
    train.set_defaults(handler=run_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_train(args: argparse.Namespace) -> int:
    # Imported here: scikit-learn and optbinning take seconds to import and only this needs them.
    from scoring.training.pipeline import CrossValidation, OutOfTime, train
    from scoring.training.report import report_html, report_json

    version = args.version or f"{args.dataset}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    target_dir = args.out / version
    if target_dir.exists():
        _say(f"{target_dir} already exists: choose another --version")
        return 2
    _say(f"loading data set {args.dataset}")
    data = DATASETS[args.dataset](args)
    use_split = data.validation is not None and args.folds is None
    validation = (
        OutOfTime(data.validation)
        if use_split and data.validation is not None
        else CrossValidation(args.folds or DEFAULT_FOLDS)
    )
    _say(f"training {version} on {len(data.frame):,} loans ({validation})")
    result = train(
        data.frame,
        data.target,
        data.features,
        version=version,
        seed=args.seed,
        scale=ScoreScale(),
        tiers=TierCutoffs(),
        validation=validation,
        categories=data.categories,
        progress=_say,
    )
    report = report_json(result, dataset=data.name)
    _publish(
        target_dir,
        {
            "champion.json": _json(result.champion.to_json()),
            "challenger.json": _json(result.challenger.to_json()),
            "report.json": _json(report),
            "report.html": report_html(result, dataset=data.name),
        },
    )
    _print_headline(report)
    print(f"wrote {target_dir}/{{{', '.join(FILES)}}}")
    return 0


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def _publish(target_dir: Path, files: dict[str, str]) -> None:
    """Write all files into a temporary folder, then rename it: a version appears whole."""
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target_dir.parent, prefix=f".{target_dir.name}."))
    try:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        os.replace(staging, target_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _print_headline(report: dict[str, Any]) -> None:
    for role, model in report["models"].items():
        summary = model["summary"]
        figures = "  ".join(
            f"{name.upper()} {summary[name]['mean']:.4f} ± {summary[name]['sd']:.4f}"
            for name in ("auc", "ks", "gini")
        )
        print(f"{role:<10} ({model['kind']}) {figures}  PSI {model['psi']['mean']:.4f}")
