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

from scoring.domain.default import default_definition
from scoring.domain.json_object import JsonObject
from scoring.domain.labels import TargetDefinition
from scoring.domain.model import ScoreScale, ServedModel, TierCutoffs
from scoring.training.datasets import Dataset, load_german, load_gmsc

DatasetLoader = Callable[[argparse.Namespace], Dataset]


def _load_platform(args: argparse.Namespace) -> Dataset:
    from scoring.training.platform import load_platform  # needs pandas: imported on use

    if not args.database_url:
        raise SystemExit(
            "--dataset platform needs the scoring database: pass --database-url or set "
            "POSTLOAN_DATABASE_URL (make run prints its PostgreSQL server; the database is "
            "postloan_scoring)"
        )
    target = TargetDefinition(dpd_threshold=args.dpd_threshold, horizon_months=args.horizon_months)
    return load_platform(
        args.database_url, target, validation_months=args.validation_months, say=_say
    )


DATASETS: dict[str, DatasetLoader] = {
    "german": lambda _args: load_german(),
    "gmsc": lambda _args: load_gmsc(),
    "platform": _load_platform,
}
DEFAULT_FOLDS = 5
FILES = ("champion.json", "challenger.json", "reference.json", "report.json", "report.html")


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
    platform = train.add_argument_group("--dataset platform: the platform's own history")
    platform.add_argument(
        "--database-url",
        default=os.environ.get("POSTLOAN_DATABASE_URL"),
        help="scoring's database (default: $POSTLOAN_DATABASE_URL)",
    )
    platform.add_argument("--dpd-threshold", type=int, default=60, help="bad at this DPD (60)")
    platform.add_argument(
        "--horizon-months", type=int, default=6, help="within this many months (6)"
    )
    platform.add_argument(
        "--validation-months",
        type=int,
        default=3,
        help="the last observation months kept out of time for validation (3)",
    )
    train.set_defaults(handler=run_train)

    publish = commands.add_parser(
        "publish", help="register a trained version with a running platform (and promote it)"
    )
    publish.add_argument("directory", type=Path, help="a folder written by train")
    publish.add_argument(
        "--url",
        default=os.environ.get("POSTLOAN_URL", "http://127.0.0.1:8000"),
        help="the gateway (default: $POSTLOAN_URL or http://127.0.0.1:8000)",
    )
    publish.add_argument("--promote", action="store_true", help="make the champion live")
    publish.set_defaults(handler=run_publish)
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
    from scoring.training.publish import references
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
    models: dict[str, ServedModel] = {"champion": result.champion, "challenger": result.challenger}
    development = (
        data.frame[~validation.validation] if isinstance(validation, OutOfTime) else data.frame
    )
    _write_version(
        target_dir,
        {
            "champion.json": _json(_document(result.champion, data.default_dpd)),
            "challenger.json": _json(_document(result.challenger, data.default_dpd)),
            "reference.json": _json(references(models, development)),
            "report.json": _json(report),
            "report.html": report_html(result, dataset=data.name),
        },
    )
    _print_headline(report)
    print(f"wrote {target_dir}/{{{', '.join(FILES)}}}")
    return 0


def run_publish(args: argparse.Namespace) -> int:
    """Register both models of a version folder through the gateway; promote if asked.

    Credentials come from the environment, never the command line (it shows in ``ps``):
    ``POSTLOAN_TOKEN`` (a bearer token) or ``POSTLOAN_API_KEY``.
    """
    import httpx

    from scoring.training.publish import publish

    headers = _credentials()
    with httpx.Client(base_url=args.url, headers=headers, timeout=60.0) as client:
        publish(args.directory, client, promote=args.promote, say=_say)
    return 0


def _credentials() -> dict[str, str]:
    if token := os.environ.get("POSTLOAN_TOKEN"):
        return {"Authorization": f"Bearer {token}"}
    if key := os.environ.get("POSTLOAN_API_KEY"):
        return {"X-API-Key": key}
    raise SystemExit(
        "set POSTLOAN_TOKEN (POST /api/v1/auth/token) or POSTLOAN_API_KEY to publish models"
    )


def _document(model: ServedModel, default_dpd: int | None) -> JsonObject:
    """The model's document, with the default its target defined recorded in ``meta``."""
    document = model.to_json()
    if default_dpd is not None:
        document["meta"] = {**document.get("meta", {}), **default_definition(default_dpd)}
    return document


def _json(document: JsonObject) -> str:
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def _write_version(target_dir: Path, files: dict[str, str]) -> None:
    """Write all files into a temporary folder, then rename it: a version appears whole."""
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target_dir.parent, prefix=f".{target_dir.name}."))
    try:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        staging.chmod(0o755)  # mkdtemp's folder is private; the service must read the models
        os.replace(staging, target_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _print_headline(report: JsonObject) -> None:
    for role, model in report["models"].items():
        summary = model["summary"]
        figures = "  ".join(
            f"{name.upper()} {summary[name]['mean']:.4f} ± {summary[name]['sd']:.4f}"
            for name in ("auc", "ks", "gini")
        )
        kind = f"({model['kind']})"
        print(f"{role:<10} {kind:<11} {figures}  PSI {model['psi']['mean']:.4f}")


if __name__ == "__main__":
    sys.exit(main())
